export { ConfigError, type ConfigVariable, type Env, EnvReader } from './env-reader';
export {
  LOG_LEVELS,
  type LogLevel,
  readSessionEnv,
  SESSION_ENV_VARIABLES,
  type SessionEnvConfig,
} from './session-env';
