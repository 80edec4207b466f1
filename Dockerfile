# The ray-ts image: every package built, the `ray-ts` command on the PATH (deploy/kubernetes/).
#   docker build -t ray-ts:latest .
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc nx.json tsconfig.base.json ./
COPY packages ./packages
RUN npm ci --no-audit --no-fund && npx nx run-many -t build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app /app
RUN ln -s /app/packages/core/bin/ray-ts.mjs /usr/local/bin/ray-ts
ENV NODE_ENV=production NX_DAEMON=false NX_NO_CLOUD=true
# The GCS, the dashboard and job API, Serve's HTTP.
EXPOSE 6380 8265 8000
CMD ["ray-ts", "--help"]
