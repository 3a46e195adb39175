# ki2api — OpenAI-compatible gateway in front of Kiro.
# Small (alpine), non-root, production dependencies only, with a health check.
FROM node:20-alpine AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN SCARF_ANALYTICS=false npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-alpine
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8989
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json openapi.json ./
COPY contract ./contract
COPY src ./src
# The Kiro IDE token file is mounted at /home/node/.aws/sso/cache (see docker-compose.yml).
RUN mkdir -p /home/node/.aws/sso/cache && chown -R node:node /home/node/.aws
USER node
EXPOSE 8989
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8989)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--import", "tsx", "src/main.ts"]
