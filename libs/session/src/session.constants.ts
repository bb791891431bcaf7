/** Injection tokens of the session module. */
export const SESSION_OPTIONS = Symbol('SESSION_OPTIONS');
export const SESSION_REDIS = Symbol('SESSION_REDIS');
/** Raw options as given to forRootAsync's factory, before validation. */
export const SESSION_RAW_OPTIONS = Symbol('SESSION_RAW_OPTIONS');
