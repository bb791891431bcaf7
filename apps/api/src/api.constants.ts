/** Injection token of the validated ApiConfig (see config.ts). */
export const API_CONFIG = Symbol('API_CONFIG');

/** The api's root pino logger (see logging/logger.options.ts). */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');
