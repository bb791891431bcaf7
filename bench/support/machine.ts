import { Redis } from 'ioredis';
import { cpus, loadavg, totalmem } from 'node:os';
import { info, withPrivateRedis } from './redis';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  redis: string;
  loadAverage: number[];
}

export async function machineInfo(): Promise<MachineInfo> {
  const redis = await withPrivateRedis(async (url) => {
    const client = new Redis(url);
    try {
      return (await info(client, 'server')).get('redis_version') ?? 'unknown';
    } finally {
      client.disconnect();
    }
  });
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    redis,
    loadAverage: loadavg(),
  };
}

export function describeMachine(m: MachineInfo): string {
  return (
    `${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, redis-server ${m.redis}; ` +
    `load average at start ${m.loadAverage.map((l) => l.toFixed(2)).join(' / ')}`
  );
}
