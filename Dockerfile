# syntax=docker/dockerfile:1
#
# One image with every creditchain binary: intake, consensus-ledger,
# replicator, exit-contract, signer, query and the creditchain CLI, static
# (CGO_ENABLED=0) in /usr/local/bin. Kubernetes (deploy/helm) and
# docker-compose.yaml pick the binary with the container's command.
#
#   docker build -t creditchain:dev .
#
# Base images are plain names: the registry configured for Docker resolves them.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
# The whole workspace: go.work ties the modules together (services take their
# dependencies through pkg). The module and build caches outlive the layer.
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/root/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    mkdir -p /out && \
    go build -ldflags "-s -w -X main.version=${VERSION}" -o /out/ \
      ./cmd/creditchain \
      ./services/intake/cmd/intake \
      ./services/consensus-ledger/cmd/consensus-ledger \
      ./services/replicator/cmd/replicator \
      ./services/exit-contract/cmd/exit-contract \
      ./services/signer/cmd/signer \
      ./services/query/cmd/query

# A small Debian: CA certificates (TLS to external servers and collectors), a
# CJK TrueType font for the certificates' PDFs (the signer), curl for health
# checks, and an unprivileged user. No shell tools are needed by the services.
FROM debian:12-slim
RUN apt-get update && \
    apt-get install -y --no-install-recommends ca-certificates curl fonts-wqy-microhei tzdata && \
    rm -rf /var/lib/apt/lists/* && \
    groupadd --system --gid 65532 creditchain && \
    useradd --system --uid 65532 --gid 65532 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin creditchain
COPY --from=build /out/ /usr/local/bin/
ENV CREDITCHAIN_CJK_FONT=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc \
    CREDITCHAIN_LISTEN=0.0.0.0:8080
USER 65532:65532
EXPOSE 8080
CMD ["creditchain", "help"]
