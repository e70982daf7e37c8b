// One error type for the cgroup library, so callers (dray-runc's one-line
// errors) can tell a bad configuration or host from a bug.
export class CgroupError extends Error {
  override name = 'CgroupError';
}
