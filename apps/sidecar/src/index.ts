export {
  type Env,
  parseApiKeyEntry,
  parseSidecarEnv,
  SIDECAR_ENV_VARS,
  type SidecarConfig,
  SidecarEnvError,
  type SidecarEnvVar,
} from './env.js'
export {
  buildSidecarOptions,
  createSidecarGateway,
  type SidecarGateway,
  type SidecarStartOptions,
} from './sidecar.js'
