/**
 * APF's mappings.conf tables (apf-behaviour.md §2.7), used when no mappings.conf exists. A
 * mappings.conf that does exist overlays these section by section, key by key.
 */
import type { Mappings } from './types.ts';

/** Section names the plugins look up. */
export const MAPPING_SECTIONS = {
  condorBatch: 'CONDORBATCHSTATUS-JOBSTATUS2INFO',
  condorWms: 'CONDORWMSSTATUS-JOBSTATUS2INFO',
  panda: 'PANDAWMSSTATUS-JOBSSTATISTICSPERSITE2INFO',
} as const;

const BUILT_IN: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'CONDORBATCHSTATUS-JOBSTATUS2INFO': {
    '0': 'pending',
    '1': 'pending',
    '2': 'running',
    '3': 'done',
    '4': 'done',
    '5': 'pending',
    '6': 'running',
  },
  'CONDOREC2BATCHSTATUS-JOBSTATUS2INFO': {
    '0': 'pending',
    '1': 'pending',
    '2': 'running',
    '3': 'done',
    '4': 'done',
    '5': 'pending',
    '6': 'running',
  },
  'CONDORBATCHSTATUS-GLOBUSSTATUS2INFO': {
    '1': 'pending',
    '2': 'running',
    '4': 'done',
    '8': 'done',
    '16': 'suspended',
    '32': 'pending',
    '64': 'pending',
    '128': 'running',
  },
  'PANDAWMSSTATUS-JOBSSTATISTICSPERSITE2INFO': {
    pending: 'notready',
    defined: 'notready',
    assigned: 'notready',
    waiting: 'notready',
    throttled: 'notready',
    activated: 'ready',
    starting: 'running',
    sent: 'running',
    running: 'running',
    holding: 'running',
    transferring: 'running',
    finished: 'done',
    failed: 'failed',
    cancelled: 'failed',
  },
  'CONDORWMSSTATUS-JOBSTATUS2INFO': {
    '0': 'ready',
    '1': 'ready',
    '2': 'running',
    '3': 'done',
    '4': 'done',
    '5': 'failed',
    '6': 'running',
  },
  NATIVECONDORBATCHSTATUS: {
    '0': 'unexpanded',
    '1': 'idle',
    '2': 'running',
    '3': 'removed',
    '4': 'completed',
    '5': 'held',
    '6': 'submission_err',
  },
};

/** The built-in tables as a fresh mutable map (the loader overlays mappings.conf on it). */
export function builtInMappings(): Map<string, Map<string, string>> {
  return new Map(Object.entries(BUILT_IN).map(([sec, table]) => [sec, new Map(Object.entries(table))]));
}

/** Freezes mappings into the read-only {@link Mappings} shape. */
export function freezeMappings(m: Map<string, Map<string, string>>): Mappings {
  return m;
}
