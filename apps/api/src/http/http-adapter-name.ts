/** The Nest HTTP adapters the api runs on (HTTP_ADAPTER). */
export const HTTP_ADAPTER_NAMES = ['fastify', 'express'] as const;
export type HttpAdapterName = (typeof HTTP_ADAPTER_NAMES)[number];
