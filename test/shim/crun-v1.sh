#!/bin/sh
# Test helper: crun 1.8 refuses a hybrid cgroup host whose (otherwise unused)
# cgroup v2 tree has a controller enabled, as this machine's has (hugetlb).
# Run it in a private mount namespace without that tree, so it sees plain
# cgroup v1. The container gets its own mount namespace as usual.
exec unshare -m --propagation private sh -c 'umount -l /sys/fs/cgroup/unified 2>/dev/null; exec crun "$@"' crun "$@"
