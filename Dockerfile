# ki2api — OpenAI-compatible gateway in front of Kiro.
# Small (alpine), non-root, production dependencies only, compiled JavaScript, with a health check.

# 1. Compile TypeScript (needs the dev dependencies).
FROM node:20-alpine AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN SCARF_ANALYTICS=false npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY contract ./contract
COPY src ./src
COPY scripts ./scripts
RUN npx tsc -p tsconfig.build.json

# 2. Production dependencies only.
FROM node:20-alpine AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN SCARF_ANALYTICS=false npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

# 3. The image: compiled code + production dependencies, run as the unprivileged `node` user.
FROM node:20-alpine
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8989
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/contract ./dist/contract
COPY package.json openapi.json ./
# The dashboard page and its assets (served from the package, no CDN).
COPY dashboard ./dashboard
# The Kiro IDE token file is mounted at /home/node/.aws/sso/cache, saved accounts live in
# /home/node/.ki2api/accounts (a named volume in the compose cluster: it takes this ownership).
RUN mkdir -p /home/node/.aws/sso/cache /home/node/.ki2api/accounts && chmod 700 /home/node/.ki2api/accounts \
  && chown -R node:node /home/node/.aws /home/node/.ki2api
USER node
EXPOSE 8989
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8989)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Plain node (not npm) as PID 1's child: SIGTERM reaches the gateway, which drains streams and exits 0.
# The node flags are those of `npm start` (README, "Performance"; a test keeps them equal).
STOPSIGNAL SIGTERM
CMD ["node", "--max-semi-space-size=8", "dist/src/main.js"]
