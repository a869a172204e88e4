/**
 * Running as the factory's own account (APF §1.9). Started as root — as APF's init script did —
 * `apf start` first opens and prepares what needs root (the log file, the pid file, the state
 * directory), gives them to the run-as user (`--runas`, else `factoryUser`), then drops:
 * supplementary groups, gid, uid. It sets HOME, USER and LOGNAME, changes to the user's home and
 * checks that root cannot be regained. A root process that was given no user refuses to run:
 * cycles run `condor_submit` with whatever identity apf has, and a factory has no business doing
 * that as root. `--allow-root` (`APF_ALLOW_ROOT=1`) is the deliberate exception (a container whose
 * root is unprivileged, CI, the demo).
 *
 * Under systemd none of this happens: the unit starts apf as `User=apf` already.
 */
import { lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { ApfError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import { lookupAccount, type Account } from './accounts.ts';

export { groupsFromGroupFile, lookupAccount, parsePasswdLine, type Account, type LookupOptions } from './accounts.ts';

/**
 * Code of every refusal here (unknown user, root without a user, a drop that failed): the
 * configuration (factoryUser) or the command line (--runas) asks for something this host cannot
 * do. `apf start` exits 1 on it. (A dedicated `APF_ERR_PRIVILEGES` would be clearer.)
 */
const PRIVILEGE_ERROR: ErrorCode = 'APF_ERR_PRIVILEGES';

/** What {@link planRunAs} decides from. */
export interface RunAsRequest {
  /** The process's real uid now. */
  readonly uid: number;
  /** The name of that uid, when known (a non-root `--runas` naming oneself is fine). */
  readonly currentUser: string | undefined;
  /** `--runas USER` / `$APF_RUNAS`. */
  readonly runas: string | undefined;
  /** `[Factory] factoryUser`. */
  readonly factoryUser: string | undefined;
  /** `--allow-root` / `APF_ALLOW_ROOT=1`. */
  readonly allowRoot: boolean;
}

/** The decision: keep the identity, or drop to `user`. */
export type RunAsPlan =
  | { readonly kind: 'stay'; readonly why: 'not-root' | 'allow-root' }
  | { readonly kind: 'drop'; readonly user: string; readonly from: '--runas' | 'factoryUser' };

/**
 * Decides whom to run as. Root drops to `--runas`, else (unless root is allowed) to
 * `factoryUser`; root with neither refuses. A non-root process keeps its identity; `--runas`
 * naming somebody else is then an error (only root can switch).
 *
 * @throws ApfError (exit 1) "refusing to run as root: set factoryUser or --runas", or when a
 *   non-root process is asked to become another user.
 */
export function planRunAs(r: RunAsRequest): RunAsPlan {
  const runas = r.runas === '' ? undefined : r.runas;
  const factoryUser = r.factoryUser === '' ? undefined : r.factoryUser;
  if (r.uid !== 0) {
    if (runas !== undefined && runas !== r.currentUser && runas !== String(r.uid)) {
      throw new ApfError(PRIVILEGE_ERROR, `--runas ${runas} needs root: apf runs as ${r.currentUser ?? `uid ${r.uid}`} (start it as root, or as ${runas})`, {
        details: { runas, uid: r.uid },
      });
    }
    return { kind: 'stay', why: 'not-root' };
  }
  if (runas !== undefined) return { kind: 'drop', user: runas, from: '--runas' };
  if (r.allowRoot) return { kind: 'stay', why: 'allow-root' };
  if (factoryUser !== undefined) return { kind: 'drop', user: factoryUser, from: 'factoryUser' };
  throw new ApfError(PRIVILEGE_ERROR, 'refusing to run as root: set factoryUser or --runas (or --allow-root to run as root deliberately)');
}

/** Process and file operations a drop performs; the real ones are {@link processIdentity}. */
export interface IdentityOps {
  getuid(): number;
  geteuid(): number;
  getgid(): number;
  getegid(): number;
  getgroups(): number[];
  /** Sets the supplementary groups. */
  setgroups(groups: readonly number[]): void;
  setgid(gid: number): void;
  setuid(uid: number): void;
  chdir(dir: string): void;
  /** Changes the owner of `path` itself (a symbolic link is not followed). */
  lchown(path: string, uid: number, gid: number): void;
  /** The environment to update (HOME, USER, LOGNAME). */
  readonly env: Record<string, string | undefined>;
}

/** The running process's identity operations. */
export const processIdentity: IdentityOps = {
  getuid: () => process.getuid?.() ?? -1,
  geteuid: () => process.geteuid?.() ?? -1,
  getgid: () => process.getgid?.() ?? -1,
  getegid: () => process.getegid?.() ?? -1,
  getgroups: () => process.getgroups?.() ?? [],
  setgroups: (groups) => process.setgroups?.(groups),
  setgid: (gid) => process.setgid?.(gid),
  setuid: (uid) => process.setuid?.(uid),
  chdir: (dir) => process.chdir(dir),
  lchown: (path, uid, gid) => lchownSync(path, uid, gid),
  env: process.env,
};

/** Directories never chowned recursively, whatever `state.dir` says. */
const SYSTEM_DIRS: ReadonlySet<string> = new Set([
  '/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib64', '/opt', '/proc', '/root', '/run', '/sbin', '/srv',
  '/sys', '/tmp', '/usr', '/usr/local', '/var', '/var/lib', '/var/log', '/var/run', '/var/tmp', '/var/cache', '/var/spool',
]);

/**
 * Throws unless `dir` may be given to the run-as user recursively: an absolute path at least two
 * levels deep that is not a system directory (a `state.dir = /var` typo must not chown /var).
 *
 * @throws ApfError `APF_ERR_CONFIG_INVALID`.
 */
export function assertOwnableTree(dir: string): void {
  const abs = resolve(dir);
  const depth = abs.split(sep).filter((s) => s !== '').length;
  if (SYSTEM_DIRS.has(abs) || depth < 2) {
    throw new ApfError(PRIVILEGE_ERROR, `refusing to give ${abs} to the run-as user: state.dir must be apf's own directory (e.g. /var/lib/apf)`, {
      details: { dir: abs },
    });
  }
}

/** Gives `dir` and everything below it to `uid:gid`, without following symbolic links; returns how many entries changed. */
export function chownTree(dir: string, uid: number, gid: number, ops: Pick<IdentityOps, 'lchown'> = processIdentity): number {
  let changed = 0;
  const visit = (path: string): void => {
    const st = lstatSync(path);
    if (st.uid !== uid || st.gid !== gid) {
      ops.lchown(path, uid, gid);
      changed += 1;
    }
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(dir);
  return changed;
}

/** What {@link dropPrivileges} is asked to do. */
export interface DropRequest {
  readonly account: Account;
  /** Files opened as root that the user must keep writing (log file, pid file); missing ones are skipped. */
  readonly files: readonly string[];
  /** Directories (the state directory) created when missing and given to the user recursively. */
  readonly trees: readonly string[];
  readonly ops?: IdentityOps;
}

/** What a drop did. */
export interface DropReport {
  readonly user: string;
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups after the drop. */
  readonly groups: readonly number[];
  readonly home: string;
  /** The working directory set (the home, or `/` when the home does not exist). */
  readonly cwd: string;
  /** Paths whose owner was changed. */
  readonly chowned: readonly string[];
  /** Things worth a warning that did not stop the drop. */
  readonly warnings: readonly string[];
}

/**
 * Gives `files` and `trees` to the account, then drops to it: supplementary groups
 * (`setgroups`), gid, uid — in that order, because only root may change groups — and checks the
 * result, including that `setuid(0)` now fails. Sets HOME, USER, LOGNAME and changes to the home
 * (to `/`, with a warning, when the home does not exist).
 *
 * @throws ApfError `APF_ERR_CONFIG_INVALID` when any step fails or root could be regained.
 */
export function dropPrivileges(req: DropRequest): DropReport {
  const ops = req.ops ?? processIdentity;
  const { name, uid, gid, home } = req.account;
  const fail = (what: string, err?: unknown): ApfError =>
    new ApfError(PRIVILEGE_ERROR, `dropping privileges to ${name} (${uid}:${gid}) failed: ${what}${err === undefined ? '' : `: ${(err as Error).message}`}`, {
      ...(err === undefined ? {} : { cause: err }),
      details: { user: name, uid, gid },
    });
  const chowned: string[] = [];
  const warnings: string[] = [];
  for (const file of req.files) {
    try {
      ops.lchown(file, uid, gid);
      chowned.push(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fail(`chown ${file}`, err);
    }
  }
  for (const tree of req.trees) {
    assertOwnableTree(tree);
    try {
      mkdirSync(tree, { recursive: true, mode: 0o750 });
      if (chownTree(tree, uid, gid, ops) > 0) chowned.push(tree);
    } catch (err) {
      throw fail(`giving ${tree} to ${name}`, err);
    }
  }
  try {
    ops.setgroups(req.account.groups.length === 0 ? [gid] : req.account.groups);
    ops.setgid(gid);
    ops.setuid(uid);
  } catch (err) {
    throw fail('setgroups/setgid/setuid', err);
  }
  if (ops.getuid() !== uid || ops.geteuid() !== uid || ops.getgid() !== gid || ops.getegid() !== gid) {
    throw fail(`still uid ${ops.getuid()}/${ops.geteuid()}, gid ${ops.getgid()}/${ops.getegid()}`);
  }
  let regained = false;
  try {
    ops.setuid(0);
    regained = true;
  } catch {
    // EPERM: as it must be.
  }
  if (regained) throw fail('setuid(0) still succeeds');
  ops.env['HOME'] = home;
  ops.env['USER'] = name;
  ops.env['LOGNAME'] = name;
  let cwd = home;
  try {
    ops.chdir(home);
  } catch (err) {
    warnings.push(`home ${home} is not usable (${(err as NodeJS.ErrnoException).code ?? String(err)}): working directory is /`);
    cwd = '/';
    ops.chdir('/');
  }
  return { user: name, uid, gid, groups: ops.getgroups(), home, cwd, chowned, warnings };
}

/** What `apf start` reads from the configuration to drop privileges (only when started as root). */
export interface RunAsSettings {
  /** `[Factory] factoryUser`. */
  readonly factoryUser: string | undefined;
  /** Where factoryUser is set (`file:line`), for messages. */
  readonly factoryUserAt: string | undefined;
  /** `state.dir`: given to the user (the embedded Redis keeps its data there). */
  readonly stateDir: string;
  /** The web port the instance will listen on (null: none). */
  readonly webPort: number | null;
}

/** Options for {@link enterRunAs}. */
export interface EnterRunAsOptions {
  /** `--runas` / `$APF_RUNAS`. */
  readonly runas: string | undefined;
  /** `--allow-root` / `APF_ALLOW_ROOT=1`. */
  readonly allowRoot: boolean;
  /** Reads the settings; called only when running as root. */
  readonly settings: () => Promise<RunAsSettings>;
  /** Files opened as root that the user must keep writing (log file, pid file). */
  readonly files: readonly string[];
  readonly logger: Logger;
  readonly ops?: IdentityOps;
  readonly lookup?: (name: string) => Promise<Account | undefined>;
  /**
   * Runs as root right before the identity changes, and only then: loads what the process may
   * no longer be able to read as the user (the libraries apf imports on first use, when the
   * install is readable by root only).
   */
  readonly beforeDrop?: () => Promise<void>;
}

/**
 * `apf start`'s identity step: as root, drops to `--runas` or `factoryUser` (see
 * {@link planRunAs}) after giving it the log file, the pid file and the state directory;
 * otherwise keeps the identity. Resolves with the drop's report, or undefined when nothing changed.
 *
 * The web port must be ≥ 1024 when dropping: the server starts after the drop, and the unit's
 * empty capability set could not bind a lower one either (put a reverse proxy in front).
 *
 * @throws ApfError `APF_ERR_CONFIG_INVALID` (exit 1): unknown user, root refused, port < 1024, failed drop.
 */
export async function enterRunAs(o: EnterRunAsOptions): Promise<DropReport | undefined> {
  const ops = o.ops ?? processIdentity;
  const uid = ops.getuid();
  let currentUser: string | undefined;
  try {
    currentUser = userInfo().username;
  } catch {
    currentUser = undefined;
  }
  if (uid !== 0) {
    planRunAs({ uid, currentUser, runas: o.runas, factoryUser: undefined, allowRoot: o.allowRoot });
    return undefined;
  }
  const s = await o.settings();
  const plan = planRunAs({ uid, currentUser, runas: o.runas, factoryUser: s.factoryUser, allowRoot: o.allowRoot });
  if (plan.kind === 'stay') {
    o.logger.warn('running as root (--allow-root / APF_ALLOW_ROOT): cycles run condor_submit as root');
    return undefined;
  }
  const origin = plan.from === 'factoryUser' ? `factoryUser${s.factoryUserAt === undefined ? '' : ` (${s.factoryUserAt})`}` : '--runas';
  const account = await (o.lookup ?? lookupAccount)(plan.user);
  if (account === undefined) {
    throw new ApfError(PRIVILEGE_ERROR, `unknown user "${plan.user}" (${origin}): create it (useradd --system ${plan.user}) or name another`, {
      details: { user: plan.user, from: plan.from },
    });
  }
  if (account.uid === 0) {
    throw new ApfError(PRIVILEGE_ERROR, `refusing to run as root: ${origin} names ${plan.user} (uid 0); use --allow-root to run as root deliberately`);
  }
  if (s.webPort !== null && s.webPort > 0 && s.webPort < 1024) {
    throw new ApfError(PRIVILEGE_ERROR, `web port ${s.webPort} needs root, which apf drops before listening: use a port ≥ 1024 (web.port, --web-port) behind a reverse proxy`, {
      details: { port: s.webPort },
    });
  }
  await o.beforeDrop?.();
  const report = dropPrivileges({ account, files: o.files, trees: [s.stateDir], ops });
  o.logger.info({ user: report.user, uid: report.uid, gid: report.gid, groups: report.groups, home: report.home, from: plan.from, chowned: report.chowned }, 'privileges dropped');
  for (const w of report.warnings) o.logger.warn(w);
  return report;
}

/**
 * Writes the process id to `path` (mode 0644), for logrotate's postrotate on hosts without
 * systemd. Written before a privilege drop and given to the user with the log file.
 *
 * @throws ApfError `APF_ERR_USAGE` when the file cannot be written.
 */
export function writePidFile(path: string, pid: number = process.pid): void {
  try {
    writeFileSync(path, `${pid}\n`, { mode: 0o644 });
  } catch (err) {
    throw new ApfError('APF_ERR_USAGE', `cannot write the pid file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err, details: { path } });
  }
}

/** Removes the pid file when it still holds this process's id (another apf may have replaced it); never throws. */
export function removePidFile(path: string, pid: number = process.pid): void {
  try {
    if (readFileSync(path, 'utf8').trim() === String(pid)) rmSync(path, { force: true });
  } catch {
    // Gone already, or its directory is not writable after the drop: nothing more to do.
  }
}
