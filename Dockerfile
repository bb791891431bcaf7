# syntax=docker/dockerfile:1
# Multi-stage build: one image runs either app (`node dist/apps/api/...` or `.../worker/...`).

FROM node:20.19.2-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY apps ./apps
COPY libs ./libs
# What npm run build runs: scripts/build.js (embed-lua.js, then nest build, then the fingerprint).
COPY scripts/build.js scripts/embed-lua.js ./scripts/
COPY scripts/start/build.js ./scripts/start/
RUN npm run build && npm prune --omit=dev

FROM node:20.19.2-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# No demo users in the image: the api needs USERS_FILE (a mounted file or secret) in production.
USER node
EXPOSE 3000 3001
# Readiness of whichever app the container runs: the api on PORT or the worker on WORKER_PORT
# (loopback inside the container; only one of them listens). Node's own fetch: no curl in the
# image. docker-compose.yml sets the same check per service.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "Promise.any([process.env.PORT || 3000, process.env.WORKER_PORT || 3001].map((port) => fetch('http://127.0.0.1:' + port + '/health/ready', { signal: AbortSignal.timeout(2500) }).then((r) => { if (!r.ok) throw new Error(String(r.status)); }))).then(() => process.exit(0), () => process.exit(1))"]
CMD ["node", "dist/apps/api/apps/api/src/main.js"]
