/**
 * The X.509 proxy check condor_submit makes (HTCondor simulator, NOT HTCondor): the file named by
 * `x509userproxy` must be readable; when it holds a PEM certificate its expiry is checked against
 * the submit time and `CRED_MIN_TIME_LEFT`, and the attributes the schedd adds
 * (`x509UserProxyExpiration`, `x509userproxysubject`) are derived from it. A readable file that is
 * not a certificate is accepted unless the state's config asks for `proxyCheck: "strict"`, so test
 * set-ups can use placeholder proxy files.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { AdValue } from './classad-format.ts';
import { submitError } from './submit-file.ts';

/** How strictly the proxy file is checked. */
export type ProxyCheckMode = 'exists' | 'strict';

/** Options of {@link checkProxy}. */
export interface ProxyCheckOptions {
  readonly mode: ProxyCheckMode;
  /** Submit time, epoch seconds. */
  readonly now: number;
  /** HTCondor's `CRED_MIN_TIME_LEFT` in seconds (HTCondor's default is 120). */
  readonly minTimeLeft: number;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/**
 * Checks the proxy at `path` and returns the attributes the schedd would add. Throws a submit
 * error with condor_submit's texts: `unable to read proxy file`, `proxy has expired`,
 * `proxy lifetime too short`.
 */
export function checkProxy(path: string, options: ProxyCheckOptions): Record<string, AdValue> {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch {
    throw submitError('unable to read proxy file');
  }
  const pem = PEM_CERT.exec(text)?.[0];
  let cert: X509Certificate | undefined;
  if (pem !== undefined) {
    try {
      cert = new X509Certificate(pem);
    } catch {
      cert = undefined;
    }
  }
  if (cert === undefined) {
    if (options.mode === 'strict') throw submitError('unable to read proxy file');
    return {};
  }
  const expiration = Math.floor(Date.parse(cert.validTo) / 1000);
  if (expiration < options.now) throw submitError('proxy has expired');
  if (expiration < options.now + options.minTimeLeft) throw submitError('proxy lifetime too short');
  return { x509UserProxyExpiration: expiration, x509userproxysubject: identity(cert) };
}

/** A DN in the slash form grid tools print (`/DC=ch/DC=cern/CN=…`). */
function slashDn(dn: string): string {
  return dn
    .split('\n')
    .filter((p) => p !== '')
    .map((p) => `/${p}`)
    .join('');
}

/**
 * The identity of a proxy: a proxy certificate's subject is its issuer's plus one CN, so the
 * identity is the issuer; an end-entity certificate is its own identity.
 */
function identity(cert: X509Certificate): string {
  const subject = slashDn(cert.subject);
  const issuer = slashDn(cert.issuer);
  return subject.startsWith(`${issuer}/CN=`) && !subject.slice(issuer.length + 4).includes('/') ? issuer : subject;
}
