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
COPY scripts/embed-lua.js ./scripts/
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
CMD ["node", "dist/apps/api/apps/api/src/main.js"]
