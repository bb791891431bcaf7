import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATED_INCLUDES, loadScriptSources } from './session-scripts';

const SCRIPTS_DIR = join(__dirname, '..', 'scripts');
const INCLUDES_DIR = join(SCRIPTS_DIR, 'includes');

const scriptFiles = readdirSync(SCRIPTS_DIR).filter((file) => file.endsWith('.lua'));
const includeNames = readdirSync(INCLUDES_DIR)
  .filter((file) => file.endsWith('.lua'))
  .map((file) => file.replace(/\.lua$/, ''));

/** The leading `--[[ ... ]]` block of a script. */
function headerOf(lua: string): string {
  return lua.slice(0, lua.indexOf(']]') + 2);
}

describe('loadScriptSources', () => {
  const sources = loadScriptSources();
  const sourceOf = (file: string) => {
    const source = sources.find((s) => file === `${s.name}-${s.numberOfKeys}.lua`);
    if (!source) throw new Error(`no script loaded for ${file}`);
    return source;
  };

  it('finds the session scripts and the projection scripts', () => {
    expect(sources.map((s) => s.name).sort()).toEqual([
      'claimDeploymentSettings',
      'claimSessionFormat',
      'createSession',
      'expireSession',
      'indexSession',
      'pruneRevocationEpochs',
      'purgeRevokedSession',
      'reconcileGoneSession',
      'refundCounter',
      'refundCounterPair',
      'reserveCounter',
      'reserveCounterPair',
      'revokeOtherSessions',
      'revokeSession',
      'revokeUserSessions',
      'rotateSession',
      'unindexSession',
      'updateSession',
      'validateSession',
    ]);
  });

  it('loads every `<name>-<keys>.lua` file with the key count from its name', () => {
    expect(scriptFiles.length).toBeGreaterThan(0);
    expect(sources).toHaveLength(scriptFiles.length);
    for (const file of scriptFiles) {
      const [, name, keys] = /^(\w+)-(\d+)\.lua$/.exec(file) ?? [];
      const source = sources.find((s) => s.name === name);
      expect(source).toBeDefined();
      expect(source?.numberOfKeys).toBe(Number(keys));
    }
  });

  it('does not load the include fragments as scripts', () => {
    for (const include of includeNames) {
      expect(sources.map((s) => s.name)).not.toContain(include);
    }
  });

  it.each(scriptFiles)('%s: no `@include` line is left', (file) => {
    expect(sourceOf(file).lua).not.toMatch(/@include/);
  });

  it.each(scriptFiles)('%s: every `--- @include` is replaced by its fragment, once', (file) => {
    const raw = readFileSync(join(SCRIPTS_DIR, file), 'utf8');
    const includes = [...raw.matchAll(/^--- @include "([\w/]+)"/gm)].map((m) => m[1]);
    const lua = sourceOf(file).lua;
    for (const include of includes) {
      const generated = GENERATED_INCLUDES[include];
      if (generated) {
        expect(lua.split(generated()).length - 1).toBe(1);
        continue;
      }
      // A fragment may include others: each piece between its own includes appears once.
      const pieces = readFileSync(join(SCRIPTS_DIR, `${include}.lua`), 'utf8')
        .split(/^--- @include .*$/m)
        .map((piece) => piece.trim())
        .filter((piece) => piece !== '');
      for (const piece of pieces) expect(lua.split(piece).length - 1).toBe(1);
    }
  });

  it.each(scriptFiles)('%s: defines each included function before its first call', (file) => {
    const lua = sourceOf(file).lua;
    for (const include of includeNames) {
      const firstCall = lua.search(new RegExp(`(?<!function )\\b${include}\\(`));
      if (firstCall < 0) continue;
      const definition = lua.indexOf(`local function ${include}(`);
      expect(definition).toBeGreaterThanOrEqual(0);
      expect(definition).toBeLessThan(firstCall);
    }
  });

  it('keeps the script body after the includes', () => {
    expect(sourceOf('revokeSession-2.lua').lua).toContain("redis.call('DEL', KEYS[1])");
  });

  it.each(scriptFiles)('%s: starts with a `--[[` block that documents KEYS and ARGV', (file) => {
    const { lua, numberOfKeys } = sourceOf(file);
    expect(lua.startsWith('--[[')).toBe(true);
    const header = headerOf(lua);
    expect(header.endsWith(']]')).toBe(true);
    for (let i = 1; i <= numberOfKeys; i++) expect(header).toContain(`KEYS[${i}]`);
    expect(header).not.toContain(`KEYS[${numberOfKeys + 1}]`);
    expect(header).toContain('ARGV[1]');
  });

  it.each(scriptFiles)('%s: uses exactly KEYS[1..numberOfKeys]', (file) => {
    const source = sourceOf(file);
    const used = new Set([...source.lua.matchAll(/KEYS\[(\d+)\]/g)].map((m) => m[1]));
    const expected = Array.from({ length: source.numberOfKeys }, (_, i) => String(i + 1));
    expect([...used].sort()).toEqual(expected.sort());
  });

  it('returns the same cached list on every call', () => {
    expect(loadScriptSources()).toBe(sources);
  });
});
