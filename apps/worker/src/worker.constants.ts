/** The RedisStreamsServer instance, for health and metrics. */
export const WORKER_STREAMS_SERVER = Symbol('WORKER_STREAMS_SERVER');
/** Consumer group of the projection workers. */
export const PROJECTIONS_GROUP = 'session-projections';
