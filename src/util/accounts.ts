/**
 * Local accounts: looked up through `getent`/`id` (so NSS, LDAP and SSSD users work), falling back
 * to /etc/passwd and /etc/group when those tools are missing.
 */
import { readFileSync } from 'node:fs';
import { ApfError, isApfError } from '../errors.ts';
import { runCommand } from './exec.ts';

/** Code of a refused lookup (an invalid user name). */
const PRIVILEGE_ERROR = 'APF_ERR_PRIVILEGES';

/** A local account, as `getent passwd` shows it. */
export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** Home directory (HOME and the working directory after a drop). */
  readonly home: string;
  readonly shell: string;
  /** Every group the account is in (its primary group first): the supplementary groups after a drop. */
  readonly groups: readonly number[];
}

/** Parses one passwd(5) line (`name:x:uid:gid:gecos:home:shell`); undefined when malformed. `groups` is just the primary group. */
export function parsePasswdLine(line: string): Account | undefined {
  const f = line.replace(/\r?\n$/, '').split(':');
  if (f.length !== 7) return undefined;
  const [name, , uidText, gidText, , home, shell] = f as [string, string, string, string, string, string, string];
  if (name === '' || !/^\d+$/.test(uidText) || !/^\d+$/.test(gidText)) return undefined;
  return { name, uid: Number(uidText), gid: Number(gidText), home, shell, groups: [Number(gidText)] };
}

/**
 * The groups of `name` from group(5) text: `gid` first, then every group listing the name as a
 * member (what `initgroups(3)` would set from local files).
 */
export function groupsFromGroupFile(text: string, name: string, gid: number): number[] {
  const out = [gid];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length !== 4 || !/^\d+$/.test(f[2] as string)) continue;
    const g = Number(f[2]);
    if (!out.includes(g) && (f[3] as string).split(',').map((m) => m.trim()).includes(name)) out.push(g);
  }
  return out;
}

/** User names `useradd` accepts (plus a trailing `$` for machine accounts); never an option. */
const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/;

/** Options for {@link lookupAccount}. */
export interface LookupOptions {
  /** Deadline of `getent` (NSS may ask LDAP/SSSD). @defaultValue 10000 ms */
  readonly timeoutMs?: number;
  /** File read when `getent` is not installed. @defaultValue `/etc/passwd` */
  readonly passwdFile?: string;
  /** File read when `id` is not installed. @defaultValue `/etc/group` */
  readonly groupFile?: string;
  /** The lookup programs. @defaultValue `getent`, `id` */
  readonly getent?: string;
  readonly id?: string;
}

/**
 * Looks an account up by name (or numeric uid) through NSS (`getent passwd`), so LDAP/SSSD
 * accounts work as they do for `su`; reads `/etc/passwd` when `getent` is missing.
 *
 * @returns The account, or undefined when there is none.
 * @throws ApfError `APF_ERR_CONFIG_INVALID` for a name no account can have,
 *   `APF_ERR_COMMAND_TIMEOUT` when NSS does not answer in time.
 */
export async function lookupAccount(name: string, options: LookupOptions = {}): Promise<Account | undefined> {
  if (!USER_NAME.test(name)) throw new ApfError(PRIVILEGE_ERROR, `"${name}" is not a valid user name`, { details: { user: name } });
  const timeoutMs = options.timeoutMs ?? 10_000;
  const getent = await lookupTool(options.getent ?? 'getent', ['passwd', name], timeoutMs);
  let account: Account | undefined;
  if (getent === null) {
    // getent not installed (minimal containers): the local file is all there is.
    const numeric = /^\d+$/.test(name);
    account = readFileSync(options.passwdFile ?? '/etc/passwd', 'utf8')
      .split('\n')
      .map(parsePasswdLine)
      .find((a) => a !== undefined && (numeric ? a.uid === Number(name) : a.name === name));
  } else {
    account = getent.code === 2 ? undefined : parsePasswdLine(getent.stdout.split('\n')[0] ?? '');
  }
  if (account === undefined) return undefined;
  const id = await lookupTool(options.id ?? 'id', ['-G', account.name], timeoutMs);
  const groups =
    id === null
      ? groupsFromGroupFile(readFileSync(options.groupFile ?? '/etc/group', 'utf8'), account.name, account.gid)
      : [account.gid, ...id.stdout.trim().split(/\s+/).filter((g) => /^\d+$/.test(g)).map(Number).filter((g) => g !== account.gid)];
  return { ...account, groups };
}

/**
 * Runs a lookup program: null when it is not installed, its output when it answered (exit 0, or
 * 2 = "no such key" for getent).
 *
 * @throws ApfError `APF_ERR_COMMAND_FAILED` on any other exit, `APF_ERR_COMMAND_TIMEOUT`.
 */
async function lookupTool(file: string, args: readonly string[], timeoutMs: number): Promise<{ code: number; stdout: string } | null> {
  try {
    const r = await runCommand(file, args, { timeoutMs });
    if (r.exitCode === 0 || (r.exitCode === 2 && args[0] === 'passwd')) return { code: r.exitCode, stdout: r.stdout };
    throw new ApfError('APF_ERR_COMMAND_FAILED', `${r.command} exited with ${r.exitCode}: ${r.stderr.trim()}`, { details: { command: r.command } });
  } catch (err) {
    if (isApfError(err, 'APF_ERR_COMMAND_FAILED') && (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return null;
    throw err;
  }
}
