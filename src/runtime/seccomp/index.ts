// Seccomp for the runtime: OCI linux.seccomp -> validated policy -> classic
// BPF program, loaded by the C executor (native/executor/seccomp.c).
export { compileSeccomp, type CompileOptions, type CompiledSeccomp } from './compile.ts';
export {
  validateSeccomp,
  SeccompError,
  type LinuxSeccomp,
  type LinuxSyscall,
  type LinuxSeccompArg,
  type SeccompPolicy,
} from './validate.ts';
export { runFilter, describeAction, type SeccompData } from './interpret.ts';
export { nativeArch, AUDIT_ARCH, SYSCALLS, RET, FILTER_FLAG, type Arch } from './constants.ts';
export { dockerProfileToOci, dockerDefaultProfile, DOCKER_DEFAULT_CAPS, type DockerSeccompProfile } from './docker-profile.ts';
export {
  sendSeccompListener,
  containerProcessState,
  type ContainerProcessState,
  type OciState,
} from './listener.ts';
