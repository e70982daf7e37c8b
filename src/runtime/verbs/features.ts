// features: what this runtime supports, as the spec's features schema.
import { OCI_SPEC_VERSION } from '../../common/version.ts';
import { detectCgroupMode } from '../cgroups/index.ts';
import { CAPABILITIES } from '../plan/capabilities.ts';
import { ACTIONS, OCI_FLAGS, OPERATORS } from '../seccomp/constants.ts';
import { NAMESPACE_TYPES } from '../config/validate.ts';

export function features(): Record<string, unknown> {
  let v2 = false;
  try { v2 = detectCgroupMode() !== 'v1'; } catch { /* no cgroupfs */ }
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_SPEC_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: ['async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'lazytime', 'loud', 'mand', 'noatime',
      'nodev', 'nodiratime', 'noexec', 'nolazytime', 'nomand', 'norelatime', 'nostrictatime', 'nosuid', 'nosymfollow', 'private',
      'rbind', 'rdev', 'rdiratime', 'relatime', 'remount', 'rexec', 'rnoatime', 'rnodev', 'rnodiratime', 'rnoexec', 'rnosuid',
      'rnosymfollow', 'ro', 'rprivate', 'rrelatime', 'rro', 'rrw', 'rshared', 'rslave', 'rstrictatime', 'rsuid', 'rsymfollow',
      'runbindable', 'rw', 'shared', 'silent', 'slave', 'strictatime', 'suid', 'symfollow', 'sync', 'unbindable'],
    linux: {
      namespaces: [...NAMESPACE_TYPES],
      capabilities: Object.keys(CAPABILITIES),
      cgroup: { v1: true, v2, systemd: false, systemdUser: false, rdma: false },
      seccomp: {
        enabled: true,
        actions: Object.keys(ACTIONS),
        operators: [...OPERATORS],
        archs: ['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64'],
        knownFlags: Object.keys(OCI_FLAGS),
        supportedFlags: Object.keys(OCI_FLAGS),
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: { 'org.dray.runtime': 'dray-runc' },
  };
}
