/** The PanDA simulator (a test tool, not PanDA): server, scenarios and encoders. */
export { startPandaSim, type PandaSim, type PandaSimOptions } from './server.ts';
export {
  loadScenario,
  parseScenario,
  parseFaults,
  queueStateAt,
  activeFault,
  type PandaScenario,
  type SimFault,
  type SimFaultInput,
  type SimQueue,
  type QueueState,
} from './scenario.ts';
export { encodePickle0, pyRepr, type PyValue, type PyDecimal } from './encode.ts';
