// The private redis-server of the tests is the library's testing kit's (@app/session/testing).
export { RedisServerProcess, type RedisServerStartOptions } from '../../libs/session/src/testing';
