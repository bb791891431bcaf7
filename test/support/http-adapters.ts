import type { INestApplication } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

/** The HTTP adapters the library and the api support; HTTP suites run on each. */
export const HTTP_ADAPTERS = ['express', 'fastify'] as const;
export type HttpAdapterName = (typeof HTTP_ADAPTERS)[number];

/** A fresh adapter instance, for `moduleRef.createNestApplication(adapter)`. */
export function httpAdapter(name: HttpAdapterName): AbstractHttpAdapter {
  return name === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
}

/** app.init(), and on Fastify its plugins loaded (it answers nothing before). */
export async function initApp(app: INestApplication): Promise<void> {
  await app.init();
  const instance = app.getHttpAdapter().getInstance() as { ready?: () => Promise<unknown> };
  if (typeof instance.ready === 'function') await instance.ready();
}

/**
 * The adapter the in-process api suites run the app on: the `api-fastify` Jest project sets
 * Fastify (the api's default), the `integration` project runs them (and the fuzz suite) on
 * Express; TEST_HTTP_ADAPTER picks one for a single run. Built apps started as processes use
 * the api's own default unless a test sets HTTP_ADAPTER.
 */
export function testHttpAdapter(): HttpAdapterName {
  return (
    (globalThis as { __TEST_HTTP_ADAPTER__?: HttpAdapterName }).__TEST_HTTP_ADAPTER__ ??
    (process.env.TEST_HTTP_ADAPTER as HttpAdapterName | undefined) ??
    'express'
  );
}
