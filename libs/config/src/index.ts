export { ConfigError, type ConfigVariable, type Env, EnvReader } from './env-reader';
export {
  type ClusterSeedNode,
  LOG_LEVELS,
  type LogLevel,
  readSessionEnv,
  SESSION_ENV_VARIABLES,
  type SessionEnvConfig,
  sessionOptionsFromEnv,
  sessionRedisConfig,
} from './session-env';
export { armShutdownDeadline } from './shutdown-deadline';
export {
  createRootLogger,
  type LoggingConfig,
  PinoNestLogger,
  REDACTED,
  REDACTED_PATHS,
} from './logging';
export { LogThrottle } from './log-throttle';
export { answerProbe, type ProbeProblems, probeReport, type ProbeReport } from './probe-report';
export {
  MAX_EVENT_LOOP_LAG_MS,
  ProcessLiveness,
  type ProcessLivenessOptions,
} from './process-liveness';
export { settledWithin } from './settled-within';
