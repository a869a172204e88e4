import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isApfError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/logging/logger.ts';
import {
  assertOwnableTree,
  chownTree,
  dropPrivileges,
  enterRunAs,
  groupsFromGroupFile,
  lookupAccount,
  parsePasswdLine,
  planRunAs,
  removePidFile,
  writePidFile,
  type Account,
  type IdentityOps,
  type RunAsRequest,
} from '../../../src/util/privileges.ts';

const dir = mkdtempSync(join(tmpdir(), 'apf-priv-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const APF: Account = { name: 'apf', uid: 990, gid: 985, home: '/var/lib/apf', shell: '/usr/sbin/nologin', groups: [985, 27] };

/**
 * A process identity with the kernel's rules: only euid 0 may change groups or gid, or set the
 * uid to anything; a root setuid sets every uid. Records every call in order.
 */
class FakeProcess implements IdentityOps {
  uid = 0;
  euid = 0;
  gid = 0;
  egid = 0;
  groups: number[] = [0];
  calls: string[] = [];
  cwd = '/root';
  env: Record<string, string | undefined> = { HOME: '/root', USER: 'root', LOGNAME: 'root' };
  missingDirs = new Set<string>();
  /** Breaks the kernel's rules (a setuid that does nothing), to check the verification. */
  setuidIsNoop = false;
  setuidZeroAllowed = false;

  getuid = (): number => this.uid;
  geteuid = (): number => this.euid;
  getgid = (): number => this.gid;
  getegid = (): number => this.egid;
  getgroups = (): number[] => [...this.groups];
  setgroups = (groups: readonly number[]): void => {
    this.calls.push(`setgroups ${groups.join(',')}`);
    if (this.euid !== 0) throw eperm('setgroups');
    this.groups = [...groups];
  };
  setgid = (gid: number): void => {
    this.calls.push(`setgid ${gid}`);
    if (this.euid !== 0) throw eperm('setgid');
    this.gid = gid;
    this.egid = gid;
  };
  setuid = (uid: number): void => {
    this.calls.push(`setuid ${uid}`);
    if (this.setuidIsNoop) return;
    if (this.euid !== 0 && uid !== this.uid && !this.setuidZeroAllowed) throw eperm('setuid');
    this.uid = uid;
    this.euid = uid;
  };
  chdir = (d: string): void => {
    this.calls.push(`chdir ${d}`);
    if (this.missingDirs.has(d)) throw Object.assign(new Error(`ENOENT: ${d}`), { code: 'ENOENT' });
    this.cwd = d;
  };
  lchown = (path: string, uid: number, gid: number): void => {
    this.calls.push(`lchown ${path} ${uid}:${gid}`);
    if (this.euid !== 0) throw eperm('lchown');
    if (path.endsWith('missing.pid')) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    if (path.endsWith('readonly.log')) throw Object.assign(new Error('EROFS'), { code: 'EROFS' });
  };
}

function eperm(what: string): Error {
  return Object.assign(new Error(`EPERM: ${what}`), { code: 'EPERM' });
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isApfError(err) ? err.code : 'not an ApfError';
  }
  return undefined;
}

describe('util/privileges', () => {
  describe('parsePasswdLine and groupsFromGroupFile', () => {
    it('reads the seven passwd fields, with the primary group as the only group', () => {
      expect(parsePasswdLine('apf:x:990:985:apf pilot factory:/var/lib/apf:/usr/sbin/nologin\n')).toEqual(APF_WITHOUT_EXTRA);
      expect(parsePasswdLine('apf:x:990:985::/var/lib/apf:/bin/bash\r\n')?.shell).toBe('/bin/bash');
    });

    it('rejects malformed lines', () => {
      for (const line of ['', 'apf:x:990:985:/var/lib/apf:/bin/sh', ':x:1:1::/:/bin/sh', 'apf:x:abc:985::/h:/bin/sh', 'apf:x:1:-1::/h:/bin/sh', '# comment']) {
        expect(parsePasswdLine(line)).toBeUndefined();
      }
    });

    it('collects the groups that list the user as a member, primary first and once', () => {
      const text = ['root:x:0:', 'sudo:x:27:alice,apf', 'apf:x:985:apf', 'condor:x:120: bob , apf ', 'broken:x:zz:apf', 'short:x:5', 'users:x:100:apfx'].join('\n');
      expect(groupsFromGroupFile(text, 'apf', 985)).toEqual([985, 27, 120]);
      expect(groupsFromGroupFile(text, 'nobody', 65534)).toEqual([65534]);
    });
  });

  describe('lookupAccount', () => {
    it('finds root through NSS (getent) by name and by uid, and says undefined for an unknown user', async () => {
      const root = await lookupAccount('root');
      expect(root).toMatchObject({ name: 'root', uid: 0, gid: 0 });
      expect(root?.groups[0]).toBe(0);
      expect((await lookupAccount('0'))?.name).toBe('root');
      expect(await lookupAccount(`apf-no-such-user-${process.pid}`)).toBeUndefined();
    });

    it('refuses names that are no user name (and could be read as options)', async () => {
      for (const bad of ['-s', '', 'a b', 'x;rm', '../etc']) {
        const err: unknown = await lookupAccount(bad).catch((e: unknown) => e);
        expect(isApfError(err, 'APF_ERR_PRIVILEGES'), bad).toBe(true);
      }
    });

    it('reads /etc/passwd and /etc/group when getent and id are not installed', async () => {
      const passwd = join(dir, 'passwd');
      const group = join(dir, 'group');
      writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/bash\napf:x:990:985:apf:/var/lib/apf:/usr/sbin/nologin\n');
      writeFileSync(group, 'apf:x:985:\ncondor:x:120:apf\nsudo:x:27:alice\n');
      const opts = { getent: 'apf-test-no-getent', id: 'apf-test-no-id', passwdFile: passwd, groupFile: group };
      expect(await lookupAccount('apf', opts)).toEqual({ ...APF_WITHOUT_EXTRA, groups: [985, 120] });
      expect((await lookupAccount('990', opts))?.name).toBe('apf');
      expect(await lookupAccount('alice', opts)).toBeUndefined();
    });
  });

  describe('planRunAs', () => {
    const base: RunAsRequest = { uid: 0, currentUser: 'root', runas: undefined, factoryUser: undefined, allowRoot: false };

    it('as root: --runas first, then --allow-root, then factoryUser', () => {
      expect(planRunAs({ ...base, runas: 'ops', factoryUser: 'apf' })).toEqual({ kind: 'drop', user: 'ops', from: '--runas' });
      expect(planRunAs({ ...base, runas: 'ops', allowRoot: true })).toEqual({ kind: 'drop', user: 'ops', from: '--runas' });
      expect(planRunAs({ ...base, factoryUser: 'apf', allowRoot: true })).toEqual({ kind: 'stay', why: 'allow-root' });
      expect(planRunAs({ ...base, factoryUser: 'apf' })).toEqual({ kind: 'drop', user: 'apf', from: 'factoryUser' });
      expect(planRunAs({ ...base, allowRoot: true })).toEqual({ kind: 'stay', why: 'allow-root' });
    });

    it('as root with no user: refuses to run', () => {
      for (const r of [base, { ...base, runas: '', factoryUser: '' }]) {
        expect(() => planRunAs(r)).toThrow(/refusing to run as root: set factoryUser or --runas/);
        expect(codeOf(() => planRunAs(r))).toBe('APF_ERR_PRIVILEGES');
      }
    });

    it('not root: keeps the identity; --runas may only name oneself', () => {
      const user = { ...base, uid: 990, currentUser: 'apf' };
      expect(planRunAs({ ...user, factoryUser: 'someone-else' })).toEqual({ kind: 'stay', why: 'not-root' });
      expect(planRunAs({ ...user, runas: 'apf' })).toEqual({ kind: 'stay', why: 'not-root' });
      expect(planRunAs({ ...user, runas: '990' })).toEqual({ kind: 'stay', why: 'not-root' });
      expect(() => planRunAs({ ...user, runas: 'ops' })).toThrow(/--runas ops needs root: apf runs as apf/);
    });
  });

  describe('assertOwnableTree and chownTree', () => {
    it('refuses system directories and shallow paths, accepts apf-owned places', () => {
      for (const bad of ['/', '/var', '/var/lib', '/var/log/', '/tmp', '/usr/local', '/home', '/etc', '/data', '/var/lib/apf/../..']) {
        expect(codeOf(() => assertOwnableTree(bad)), bad).toBe('APF_ERR_PRIVILEGES');
      }
      for (const good of ['/var/lib/apf', '/srv/apf', '/tmp/apf-state', '/home/apf/state']) expect(codeOf(() => assertOwnableTree(good)), good).toBeUndefined();
    });

    it('changes every entry below the directory, links themselves but never their targets', () => {
      const root = join(dir, 'tree');
      const outside = join(dir, 'outside');
      mkdirSync(join(root, 'redis', 'appendonlydir'), { recursive: true });
      mkdirSync(outside, { recursive: true });
      writeFileSync(join(root, 'redis', 'password'), 'x');
      writeFileSync(join(outside, 'secret'), 'x');
      symlinkSync(outside, join(root, 'link'));
      const seen: string[] = [];
      const n = chownTree(root, 12345, 12346, { lchown: (p) => void seen.push(p) });
      expect(seen.sort()).toEqual([root, join(root, 'link'), join(root, 'redis'), join(root, 'redis', 'appendonlydir'), join(root, 'redis', 'password')].sort());
      expect(n).toBe(5);
      const me = lstatSync(root);
      expect(chownTree(root, me.uid, me.gid, { lchown: (p) => void seen.push(`again ${p}`) })).toBe(0);
    });
  });

  describe('dropPrivileges', () => {
    it('gives the files away, then drops groups, gid and uid in that order, and proves root is gone', () => {
      const p = new FakeProcess();
      const state = join(dir, 'state-a');
      const report = dropPrivileges({ account: APF, files: ['/var/log/apf/apf.log', '/run/apf/missing.pid'], trees: [state], ops: p });
      expect(p.calls.slice(0, 3)).toEqual(['lchown /var/log/apf/apf.log 990:985', 'lchown /run/apf/missing.pid 990:985', `lchown ${state} 990:985`]);
      expect(p.calls.slice(3)).toEqual(['setgroups 985,27', 'setgid 985', 'setuid 990', 'setuid 0', 'chdir /var/lib/apf']);
      expect([p.uid, p.euid, p.gid, p.egid, p.groups]).toEqual([990, 990, 985, 985, [985, 27]]);
      expect(p.env).toEqual({ HOME: '/var/lib/apf', USER: 'apf', LOGNAME: 'apf' });
      expect(report).toEqual({
        user: 'apf', uid: 990, gid: 985, groups: [985, 27], home: '/var/lib/apf', cwd: '/var/lib/apf',
        chowned: ['/var/log/apf/apf.log', state], warnings: [],
      });
      // the state directory was created (mode 0750) while still root
      expect(lstatSync(state).mode & 0o777).toBe(0o750);
    });

    it('falls back to / with a warning when the home does not exist', () => {
      const p = new FakeProcess();
      p.missingDirs.add('/var/lib/apf');
      const report = dropPrivileges({ account: APF, files: [], trees: [], ops: p });
      expect(report.cwd).toBe('/');
      expect(p.cwd).toBe('/');
      expect(report.warnings).toEqual(['home /var/lib/apf is not usable (ENOENT): working directory is /']);
    });

    it('fails when a file cannot be given away, before changing identity', () => {
      const p = new FakeProcess();
      expect(() => dropPrivileges({ account: APF, files: ['/var/log/readonly.log'], trees: [], ops: p })).toThrow(/chown \/var\/log\/readonly\.log: EROFS/);
      expect(p.uid).toBe(0);
      expect(p.calls.some((c) => c.startsWith('set'))).toBe(false);
    });

    it('refuses a system directory as the state directory, before changing anything', () => {
      const p = new FakeProcess();
      expect(codeOf(() => dropPrivileges({ account: APF, files: [], trees: ['/var'], ops: p }))).toBe('APF_ERR_PRIVILEGES');
      expect(p.calls).toEqual([]);
    });

    it('fails when the identity did not change or root can be regained', () => {
      const noop = new FakeProcess();
      noop.setuidIsNoop = true;
      expect(() => dropPrivileges({ account: APF, files: [], trees: [], ops: noop })).toThrow(/still uid 0\/0, gid 985\/985/);
      const leaky = new FakeProcess();
      leaky.setuidZeroAllowed = true;
      expect(() => dropPrivileges({ account: APF, files: [], trees: [], ops: leaky })).toThrow(/setuid\(0\) still succeeds/);
      expect(leaky.env['HOME']).toBe('/root');
    });

    it('reports a failing setgroups/setgid/setuid as a coded error', () => {
      const p = new FakeProcess();
      p.euid = 990; // not really root
      const err = (() => {
        try {
          dropPrivileges({ account: APF, files: [], trees: [], ops: p });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(isApfError(err, 'APF_ERR_PRIVILEGES')).toBe(true);
      expect((err as Error).message).toMatch(/setgroups\/setgid\/setuid: EPERM: setgroups/);
    });
  });

  describe('enterRunAs', () => {
    const settings = (over: Partial<{ factoryUser: string; webPort: number | null }> = {}) => () =>
      Promise.resolve({
        factoryUser: over.factoryUser,
        factoryUserAt: '/etc/apf/autopyfactory.conf:4',
        stateDir: join(dir, 'state-enter'),
        webPort: over.webPort ?? null,
      });
    const lookup = (name: string): Promise<Account | undefined> =>
      Promise.resolve(name === 'apf' ? APF : name === 'toor' ? { ...APF, name: 'toor', uid: 0 } : undefined);
    const logger = silentLogger();

    it('not root: changes nothing and does not read the configuration', async () => {
      const p = new FakeProcess();
      p.uid = p.euid = 990;
      let read = false;
      const r = await enterRunAs({ runas: undefined, allowRoot: false, settings: () => ((read = true), settings()()), files: [], logger, ops: p, lookup });
      expect(r).toBeUndefined();
      expect(read).toBe(false);
      expect(p.calls).toEqual([]);
    });

    it('root: drops to factoryUser, giving it the files and the state directory', async () => {
      const p = new FakeProcess();
      const r = await enterRunAs({ runas: undefined, allowRoot: false, settings: settings({ factoryUser: 'apf' }), files: ['/tmp/x.log'], logger, ops: p, lookup });
      expect(r?.uid).toBe(990);
      expect(p.calls).toContain(`lchown ${join(dir, 'state-enter')} 990:985`);
      expect(p.uid).toBe(990);
    });

    it('beforeDrop runs as root right before a drop, and not when nothing is dropped', async () => {
      const seen: (number | string)[] = [];
      const beforeDrop = (p: FakeProcess) => (): Promise<void> => {
        seen.push(p.uid, p.calls.length);
        return Promise.resolve();
      };
      const dropping = new FakeProcess();
      await enterRunAs({ runas: 'apf', allowRoot: false, settings: settings(), files: [], logger, ops: dropping, lookup, beforeDrop: beforeDrop(dropping) });
      expect(seen).toEqual([0, 0]); // still root, no identity call made yet
      expect(dropping.uid).toBe(990);
      const staying = new FakeProcess();
      await enterRunAs({ runas: undefined, allowRoot: true, settings: settings(), files: [], logger, ops: staying, lookup, beforeDrop: beforeDrop(staying) });
      const user = new FakeProcess();
      user.uid = user.euid = 990;
      await enterRunAs({ runas: undefined, allowRoot: false, settings: settings(), files: [], logger, ops: user, lookup, beforeDrop: beforeDrop(user) });
      const failing = new FakeProcess();
      await enterRunAs({ runas: 'nobody2', allowRoot: false, settings: settings(), files: [], logger, ops: failing, lookup, beforeDrop: beforeDrop(failing) }).catch(() => undefined);
      expect(seen).toEqual([0, 0]);
    });

    it('root: an unknown user names where it came from; uid 0 and a port below 1024 are refused', async () => {
      const run = (o: { runas?: string; factoryUser?: string; webPort?: number | null }): Promise<unknown> =>
        enterRunAs({ runas: o.runas, allowRoot: false, settings: settings(o), files: [], logger, ops: new FakeProcess(), lookup }).catch((e: unknown) => e);
      const message = async (o: Parameters<typeof run>[0]): Promise<string | undefined> => {
        const r = await run(o);
        return isApfError(r, 'APF_ERR_PRIVILEGES') ? r.message : undefined;
      };
      expect(await message({ factoryUser: 'apff' })).toBe(
        'unknown user "apff" (factoryUser (/etc/apf/autopyfactory.conf:4)): create it (useradd --system apff) or name another',
      );
      expect(await message({ runas: 'nobody2', factoryUser: 'apf' })).toMatch(/^unknown user "nobody2" \(--runas\)/);
      expect(await message({ runas: 'toor' })).toMatch(/refusing to run as root: --runas names toor \(uid 0\)/);
      expect(await message({ factoryUser: 'apf', webPort: 80 })).toMatch(/web port 80 needs root/);
      expect(await run({ factoryUser: 'apf', webPort: 25880 })).toMatchObject({ uid: 990 });
      expect(await message({})).toMatch(/^refusing to run as root: set factoryUser or --runas/);
    });

    it('root with --allow-root: stays root even with factoryUser set', async () => {
      const p = new FakeProcess();
      expect(await enterRunAs({ runas: undefined, allowRoot: true, settings: settings({ factoryUser: 'apf' }), files: [], logger, ops: p, lookup })).toBeUndefined();
      expect([p.uid, p.calls]).toEqual([0, []]);
    });
  });

  describe('pid file', () => {
    it('is written with the pid and removed only while it still holds it', () => {
      const f = join(dir, 'apf.pid');
      writePidFile(f, 4242);
      expect(readFileSync(f, 'utf8')).toBe('4242\n');
      removePidFile(f, 4243);
      expect(readFileSync(f, 'utf8')).toBe('4242\n');
      removePidFile(f, 4242);
      expect(() => lstatSync(f)).toThrow(/ENOENT/);
      removePidFile(f, 4242);
      expect(codeOf(() => writePidFile(join(dir, 'no', 'such', 'dir.pid')))).toBe('APF_ERR_USAGE');
    });
  });
});

const APF_WITHOUT_EXTRA: Account = { name: 'apf', uid: 990, gid: 985, home: '/var/lib/apf', shell: '/usr/sbin/nologin', groups: [985] };
