/**
 * Reading configuration from the environment, once at start-up: every value is validated and
 * every error names the variable. Each app declares the variables it reads (with defaults), so a
 * deployment file can be checked against the list.
 */
export interface ConfigVariable {
  name: string;
  /** Used when the variable is unset or empty; undefined = no value. */
  default: string | undefined;
  description: string;
}

/** A start-up configuration error naming the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid environment variable ${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

export class EnvReader {
  private readonly defaults: Map<string, string | undefined>;

  constructor(
    private readonly env: Env,
    variables: readonly ConfigVariable[],
  ) {
    this.defaults = new Map(variables.map((v) => [v.name, v.default]));
  }

  /** The raw value, or the declared default when unset or empty (compose files often set `VAR=`). */
  string(name: string): string | undefined {
    if (!this.defaults.has(name)) throw new Error(`${name} is read but not declared`);
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? this.defaults.get(name) : value;
  }

  required(name: string): string {
    const value = this.string(name);
    if (value === undefined) throw new ConfigError(name, 'is required');
    return value;
  }

  integer(name: string, min: number, max: number): number {
    const value = this.string(name) ?? '';
    const parsed = /^\d{1,10}$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new ConfigError(
        name,
        `must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`,
      );
    }
    return parsed;
  }

  /** `fallback` (which may depend on other variables) wins over the declared default. */
  boolean(name: string, fallback: boolean): boolean {
    if (!this.defaults.has(name)) throw new Error(`${name} is read but not declared`);
    const value = (this.env[name]?.trim() || String(fallback)).toLowerCase();
    if (['true', '1', 'yes'].includes(value)) return true;
    if (['false', '0', 'no'].includes(value)) return false;
    throw new ConfigError(name, `must be true or false (got ${JSON.stringify(this.env[name])})`);
  }

  matching(name: string, pattern: RegExp): string {
    const value = this.required(name);
    if (!pattern.test(value))
      throw new ConfigError(name, `must match ${String(pattern)} (got ${JSON.stringify(value)})`);
    return value;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T {
    const value = this.required(name).toLowerCase();
    const found = values.find((v) => v === value);
    if (!found)
      throw new ConfigError(
        name,
        `must be one of ${values.join(', ')} (got ${JSON.stringify(value)})`,
      );
    return found;
  }

  redisUrl(name: string): string {
    const value = this.required(name);
    let valid = /^rediss?:\/\//.test(value);
    try {
      valid &&= new URL(value).hostname !== '';
    } catch {
      valid = false;
    }
    if (!valid) throw new ConfigError(name, 'must be a redis:// or rediss:// URL with a host');
    return value;
  }
}
