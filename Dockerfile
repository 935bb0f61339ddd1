# Multi-stage: build with dev dependencies, run with production dependencies only, as non-root.
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY bin ./bin
RUN npm ci --no-audit --no-fund

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY prompts ./prompts
COPY examples ./examples
USER node
EXPOSE 8080
ENTRYPOINT ["node", "/app/bin/viewgate.js"]
CMD ["serve", "--config", "/app/examples/reference/viewgate.yaml"]
