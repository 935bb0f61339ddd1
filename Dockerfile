# Multi-stage: build with dev dependencies, run with production dependencies only, as non-root.
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY console ./console
COPY bin ./bin
# dist/ needs TypeScript and Vite (the console) only: no install scripts (so no native build here), then the build.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm run build

# Production dependencies. Install scripts stay off (the root's `prepare` needs dev dependencies);
# the one native module, better-sqlite3, is then compiled from its npm tarball's sources against
# this image's Node.js headers (same base image as the runtime, so the same Node ABI and glibc).
FROM node:22-bookworm-slim AS deps
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm_config_build_from_source=true npm_config_nodedir=/usr/local npm rebuild better-sqlite3 \
  && node -e "new (require('better-sqlite3'))(':memory:').prepare('SELECT 1').get()" \
  && npm cache clean --force

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY prompts ./prompts
COPY examples ./examples
USER node
EXPOSE 8080
ENTRYPOINT ["node", "/app/bin/viewgate.js"]
CMD ["serve", "--config", "/app/examples/reference/viewgate.yaml"]
