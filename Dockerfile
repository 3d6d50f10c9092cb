# usersvc container: a build stage with the -dev packages, and a slim runtime
# with only the shared libraries. Configure with the variables in
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
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libmicrohttpd12 libcurl4 libssl3 libjansson4 libuuid1 libmimalloc2.0 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --shell /usr/sbin/nologin usersvc
COPY --from=build /src/build/usersvc /usr/local/bin/usersvc
USER usersvc
ENV HOST=0.0.0.0 PORT=3000
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=2s --retries=3 CMD curl -fsS "http://127.0.0.1:${PORT}/healthz" || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/usersvc"]
