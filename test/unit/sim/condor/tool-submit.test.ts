import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CERTS, cleanup, fixture, newState, run, sections, submitFile, tempDir } from './harness.ts';

const NOW = 1_699_999_100;
const SIMPLE = 'executable = /usr/libexec/wrapper.sh\narguments = -s CERN\n+MATCH_APF_QUEUE = "CERN-ce503.cern.ch"\nqueue 3\n';

afterAll(cleanup);

describe('sim/condor/tool-submit', () => {
  describe('output', () => {
    it('prints exactly what condor_submit prints (fixture condor_submit.stdout.txt)', async () => {
      const state = newState({ firstClusterId: 4367890 });
      const r = await run(state, 'condor_submit', [submitFile(tempDir(), SIMPLE)], { now: NOW });
      expect(r).toEqual({ code: 0, stdout: fixture('condor_submit.stdout.txt'), stderr: '' });
    });

    it('-terse prints the id range (fixture condor_submit_terse.stdout.txt)', async () => {
      const state = newState({ firstClusterId: 4367890 });
      const r = await run(state, 'condor_submit', ['-terse', submitFile(tempDir(), SIMPLE)], { now: NOW });
      expect(r).toEqual({ code: 0, stdout: fixture('condor_submit_terse.stdout.txt'), stderr: '' });
    });

    it('-verbose prints a ** Proc header and the ad per job, no summary line', async () => {
      const state = newState({ firstClusterId: 769012 });
      const r = await run(state, 'condor_submit', ['-verbose', submitFile(tempDir(), SIMPLE.replace('queue 3', 'queue 2'))], { now: NOW });
      expect(r.code).toBe(0);
      expect(r.stdout.startsWith('Submitting job(s)\n** Proc 769012.0:\n')).toBe(true);
      expect(r.stdout).toContain('\n** Proc 769012.1:\n');
      expect(r.stdout).toContain('MATCH_APF_QUEUE = "CERN-ce503.cern.ch"\n');
      expect(r.stdout).toContain('ClusterId = 769012\n');
      expect(r.stdout).toContain('ProcId = 1\n');
      expect(r.stdout).toContain(`QDate = ${NOW}\n`);
      expect(r.stdout).not.toContain('submitted to cluster');
      expect(r.stdout.endsWith('\n\n')).toBe(true);
      // APF's parser: every line starting with ** gives an id (third token, colon removed)
      const ids = r.stdout.split('\n').filter((l) => l.startsWith('**')).map((l) => l.split(' ')[2]?.replace(/:$/, ''));
      expect(ids).toEqual(['769012.0', '769012.1']);
    });

    it('reading stdin (-) implies -verbose without the Submitting header', async () => {
      const state = newState({ firstClusterId: 5 });
      const r = await run(state, 'condor_submit', ['-'], { now: NOW, stdin: SIMPLE.replace('queue 3', 'queue 1') });
      expect(r.code).toBe(0);
      expect(r.stdout.startsWith('\n** Proc 5.0:\nArgs = "-s CERN"\n')).toBe(true);
      expect(r.stdout).not.toContain('Submitting job(s)');
    });

    it('numbers clusters per schedd and starts a new cluster when the executable changes', async () => {
      const state = newState();
      const dir = tempDir();
      const two = submitFile(dir, 'executable = /a\nqueue 2\nexecutable = /b\nqueue\narguments = x\nqueue 2\n');
      const r1 = await run(state, 'condor_submit', [two], { now: NOW });
      expect(r1.stdout).toBe('Submitting job(s).....\n2 job(s) submitted to cluster 1.\n3 job(s) submitted to cluster 2.\n');
      const r2 = await run(state, 'condor_submit', ['-name', 'schedd02', two], { now: NOW });
      expect(r2.stdout).toContain('submitted to cluster 1.');
      const q = await run(state, 'condor_q', ['-af', 'ClusterId', 'ProcId', 'Cmd', 'Args'], { now: NOW });
      expect(q.stdout).toBe('1 0 /a undefined\n1 1 /a undefined\n2 0 /b undefined\n2 1 /b x\n2 2 /b x\n');
    });
  });

  describe('errors (fixture condor_submit_errors.txt)', () => {
    const texts = sections(fixture('condor_submit_errors.txt'));
    const expected = (title: string): string => {
      const t = texts.get(title);
      if (t === undefined) throw new Error(`fixture section "${title}" missing`);
      return t;
    };

    it('no queue statement', async () => {
      const state = newState();
      const file = submitFile(tempDir(), 'executable = /a\n');
      const r = await run(state, 'condor_submit', [file], { now: NOW });
      const want = expected('submit file has no queue statement (exit 1)').replace('/var/log/apf/2023-11-14/CERN-ce503.cern.ch/submit.jdl', file);
      expect(r).toEqual({ code: 1, stdout: 'Submitting job(s)', stderr: want });
    });

    it('syntax error, with its line number', async () => {
      const state = newState();
      const lines = Array.from({ length: 22 }, (_, i) => `# line ${i + 1}`);
      const file = submitFile(tempDir(), `${lines.join('\n')}\nthis line is not a command\nexecutable = /a\nqueue\n`);
      const r = await run(state, 'condor_submit', [file], { now: NOW });
      expect(r).toEqual({ code: 1, stdout: 'Submitting job(s)', stderr: expected('syntax error in the submit file (exit 1)') });
    });

    it('missing proxy file', async () => {
      const state = newState();
      const file = submitFile(tempDir(), 'executable = /a\nuniverse = grid\ngrid_resource = condor ce ce:9619\nx509userproxy = /nonexistent/x509\nqueue\n');
      const r = await run(state, 'condor_submit', [file], { now: NOW });
      expect(r).toEqual({ code: 1, stdout: 'Submitting job(s)', stderr: expected('x509userproxy file unreadable / missing (exit 1)') });
    });

    it('expired proxy, and a lifetime below CRED_MIN_TIME_LEFT', async () => {
      const expired = submitFile(tempDir(), `executable = /a\nx509userproxy = ${join(CERTS, 'test-proxy-expired.pem')}\nqueue\n`);
      const r1 = await run(newState(), 'condor_submit', [expired], { now: NOW });
      expect(r1.stderr).toBe(expected('x509userproxy points at an expired proxy (exit 1)'));
      expect(r1.code).toBe(1);
      const valid = submitFile(tempDir(), `executable = /a\nx509userproxy = ${join(CERTS, 'test-proxy-valid.pem')}\nqueue\n`);
      const r2 = await run(newState({ credMinTimeLeft: 4_000_000_000 }), 'condor_submit', [valid], { now: NOW });
      expect(r2.stderr).toBe(expected('x509userproxy lifetime below CRED_MIN_TIME_LEFT (exit 1)'));
      expect(r2.code).toBe(1);
    });

    it('a valid proxy sets the attributes the schedd derives from it', async () => {
      const state = newState({ proxyCheck: 'strict' });
      const valid = submitFile(tempDir(), `executable = /a\nx509userproxy = ${join(CERTS, 'test-proxy-valid.pem')}\nqueue\n`);
      expect((await run(state, 'condor_submit', [valid], { now: NOW })).code).toBe(0);
      const q = await run(state, 'condor_q', ['-af', 'x509userproxysubject', 'x509UserProxyExpiration'], { now: NOW });
      expect(q.stdout).toMatch(/^\/DC=ch\/DC=cern\/OU=Users\/CN=atlpilo1 \d{10}\n$/);
      // strict mode refuses a placeholder that is not a certificate
      const placeholder = submitFile(tempDir(), 'not a certificate', 'proxy');
      const bad = submitFile(tempDir(), `executable = /a\nx509userproxy = ${placeholder}\nqueue\n`);
      expect((await run(state, 'condor_submit', [bad], { now: NOW })).stderr).toBe('\nERROR: unable to read proxy file\n');
    });

    it('named schedd not reachable', async () => {
      const state = newState({ schedds: ['schedd01'] });
      const r = await run(state, 'condor_submit', ['-name', 'schedd.example.org', submitFile(tempDir(), SIMPLE)], { now: NOW });
      expect(r).toEqual({ code: 1, stdout: '', stderr: expected('named schedd not reachable: condor_submit -name schedd.example.org (exit 1)') });
    });

    it('an exit fault without text prints the local schedd failure', async () => {
      const state = newState({ faults: { condor_submit: { mode: 'exit' } } });
      const r = await run(state, 'condor_submit', [submitFile(tempDir(), SIMPLE)], { now: NOW });
      expect(r).toEqual({ code: 1, stdout: '', stderr: expected('schedd not reachable (exit 1)') });
    });

    it('a file that cannot be opened', async () => {
      const r = await run(newState(), 'condor_submit', ['/nonexistent/submit.jdl'], { now: NOW });
      expect(r).toEqual({ code: 1, stdout: '', stderr: '\nERROR: Failed to open command file (/nonexistent/submit.jdl) (No such file or directory)\n' });
    });

    it('an unknown option prints usage and exits 1', async () => {
      const r = await run(newState(), 'condor_submit', ['-bogus', 'x.jdl'], { now: NOW });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^condor_submit: unknown option -bogus\nUsage: condor_submit/);
    });

    it('a failed submission queues nothing', async () => {
      const state = newState();
      const file = submitFile(tempDir(), 'executable = /a\nqueue 2\nx509userproxy = /nonexistent\nqueue 1\n');
      expect((await run(state, 'condor_submit', [file], { now: NOW })).code).toBe(1);
      expect((await run(state, 'condor_q', ['-json'], { now: NOW })).stdout).toBe('');
      const ok = await run(state, 'condor_submit', [submitFile(tempDir(), SIMPLE)], { now: NOW });
      expect(ok.stdout).toContain('submitted to cluster 1.');
    });
  });
});
