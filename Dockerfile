# Townhall in a container: build the release binary, then run it as a non-root user on a small image.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY .cargo .cargo
COPY src src
COPY templates templates
COPY static static
COPY migrations migrations
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin townhall \
 && mkdir -p /data && chown townhall:townhall /data
COPY --from=build /src/target/release/townhall /usr/local/bin/townhall
USER townhall
WORKDIR /data
ENV TOWNHALL_LISTEN=0.0.0.0:8080 \
    TOWNHALL_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
# Each connection is an open file: Townhall raises its soft limit to the hard one and allows that many
# connections less 128. Give busy sites more with `docker run --ulimit nofile=65536:65536`.
ENTRYPOINT ["/usr/local/bin/townhall"]
CMD ["serve"]
