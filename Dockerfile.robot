# The robot image: `rpa robot`, with Debian's Chromium and fonts for browser nodes and screenshots.
# The operator's robot Deployments run it with `args: [robot]` and the settings in the environment
# (REDIS_URL from a Secret, RPA_ROBOT_NAME, RPA_CONCURRENCY, ...); nothing secret is baked in here.
#
#   docker build -f Dockerfile.robot -t rpa-robot:0.1.0 .
#
# What ships: the compiled JavaScript (`npm run build` → dist/), as in Dockerfile.operator: bin/rpa.js
# loads dist/cli/main.js, so no TypeScript is compiled at start-up.
# Same Node base image and tag as Dockerfile.operator (see there for why Node 22).

# --- production node_modules -------------------------------------------------------------------
FROM node:22.23.2-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
# `npm install` from the same lock file only when `npm ci` refuses it (see Dockerfile.operator).
RUN (npm ci --omit=dev --no-audit --no-fund || npm install --omit=dev --no-save --no-audit --no-fund) \
    && npm cache clean --force

# --- compile TypeScript -------------------------------------------------------------------------
FROM node:22.23.2-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund || npm install --no-save --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY core ./core
COPY dataplane ./dataplane
COPY robot ./robot
COPY api ./api
COPY operator ./operator
COPY cli ./cli
RUN npm run build

# --- runtime ------------------------------------------------------------------------------------
FROM node:22.23.2-bookworm-slim
# Debian's chromium (kept current by debian-security) rather than a Playwright download; fonts so
# pages and screenshots render text (add fonts-noto-cjk for Chinese/Japanese/Korean sites: ~60 MB).
# tini as PID 1 reaps Chromium's orphaned helper processes and passes SIGTERM on to node.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       chromium fonts-liberation fonts-dejavu-core fonts-noto-color-emoji tini \
    && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    CHROMIUM_PATH=/usr/bin/chromium
WORKDIR /app
# package.json carries "type": "module", without which dist/ would not load as ES modules.
COPY package.json ./
COPY bin ./bin
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The base image's `node` user (uid/gid 1000, home /home/node where Chromium keeps its state):
# the uid the operator's robot Deployments set (runAsUser: 1000, fsGroup: 1000).
USER 1000:1000
# RPA_METRICS_PORT, set by the operator's robot Deployments.
EXPOSE 9464
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/rpa.js"]
CMD ["robot"]
