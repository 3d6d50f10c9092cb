# usersvc container: a build stage with the -dev packages (the Makefile's hardened flags), and a slim
# runtime with only the shared libraries, run as UID 10001. Configure with the variables in
# config/usersvc.env.example; on AWS the credentials come from the task or instance role (README: Running on AWS).
FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc make libc6-dev libmicrohttpd-dev libcurl4-openssl-dev libssl-dev libjansson-dev uuid-dev libmimalloc-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY include ./include
COPY src ./src
COPY config/openapi.json ./config/openapi.json
ARG VERSION=container
RUN make VERSION=$VERSION build/usersvc

FROM debian:bookworm-slim
# `make container-check` builds this stage's file system with debootstrap from exactly the packages
# named here (it parses this command) and runs the binary in it as 10001: keep the list one command.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libmicrohttpd12 libcurl4 libssl3 libjansson4 libuuid1 libmimalloc2.0 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 usersvc \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin usersvc
COPY --from=build /src/build/usersvc /usr/local/bin/usersvc
# Numeric, so Kubernetes' runAsNonRoot can verify it without a user database.
USER 10001:10001
ENV HOST=0.0.0.0 PORT=3000
EXPOSE 3000
# No curl in the image: the binary checks itself (GET /healthz on HOST/PORT, 2 s deadline).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["/usr/local/bin/usersvc", "--healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/usersvc"]
