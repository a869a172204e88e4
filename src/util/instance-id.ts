/**
 * Instance ids: what `--instance`, `instance.id` or the hostname may be. An id names the
 * instance's batch source (`condor:local@<id>`), is a field of tab-separated Redis records and of
 * the lease owner (`<id>:<pid>:<ms>`), and is written into every pilot's submit file
 * (`+APF_INSTANCE = "<id>"`): the hostname alphabet (letters, digits, `.`, `-`, `_`) keeps it
 * safe in all of them.
 */
import { ApfError } from '../errors.ts';

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/** Why `id` cannot be an instance id, or null when it can. */
export function instanceIdProblem(id: string): string | null {
  if (ID.test(id)) return null;
  if (id === '') return 'is empty';
  if (id.length > 253) return 'is longer than 253 characters';
  return 'must start with a letter or digit and hold only letters, digits, ".", "-" and "_" (like a hostname)';
}

/**
 * The instance id: `flag` (`--instance`), else `configured` (`instance.id`), else `host`.
 *
 * @throws ApfError `APF_ERR_USAGE` naming the id, where it came from and what is wrong.
 */
export function resolveInstanceId(flag: string | undefined, configured: string | undefined, host: string): string {
  const [id, from] = flag !== undefined ? [flag, '--instance'] : configured !== undefined ? [configured, 'instance.id'] : [host, 'the hostname; set --instance or instance.id'];
  const problem = instanceIdProblem(id);
  if (problem !== null) throw new ApfError('APF_ERR_USAGE', `instance id ${JSON.stringify(id)} (from ${from}) ${problem}`, { details: { instanceId: id } });
  return id;
}
