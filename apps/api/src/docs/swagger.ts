import type { INestApplication } from '@nestjs/common';
import { SwaggerModule } from '@nestjs/swagger';
import { SessionCookies } from '@app/session';
import { documentConfig } from './api-docs';

export const DOCS_PATH = 'docs';

/** Swagger UI at /docs and the OpenAPI document at /docs-json (public: outside the guard). */
export function setupSwagger(app: INestApplication): void {
  const document = SwaggerModule.createDocument(app, documentConfig(app.get(SessionCookies).name));
  SwaggerModule.setup(DOCS_PATH, app, document, { jsonDocumentUrl: `${DOCS_PATH}-json` });
}
