/** Injection token of the validated ApiConfig (see config.ts). */
export const API_CONFIG = Symbol('API_CONFIG');

/** Largest JSON body accepted; anything bigger is answered 413 before it is parsed. */
export const JSON_BODY_LIMIT = '100kb';

/** The api's root pino logger (see logging/logger.options.ts). */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');
