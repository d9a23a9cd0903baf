# ecs-emulator: a small image that is healthy in milliseconds and needs no network at run time.
#
#   docker build -t ecs-emulator .
#   docker run --rm -p 8080:8080 -p 8443:8443 -v ecs-emulator-ca:/data/ca ecs-emulator
#
# 8080: HTTP, and the proxy for *.aliyuncs.com; 8443: HTTPS with a certificate of the
# emulator's CA, which is made once in the /data/ca volume (keep the volume: clients trust it).
#
# Build stage: dependencies first (a layer that survives source edits), then the sources.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# The allocator's build flags (.cargo/config.toml), before the dependencies are built.
COPY .cargo .cargo
# Stub targets so `cargo build` compiles only the dependencies in this layer (the test and
# bench stubs stay: the manifest names them, the image does not need them).
RUN mkdir -p src tests/api benches \
 && echo 'fn main() {}' > src/main.rs \
 && echo 'fn main() {}' > benches/hot.rs \
 && touch src/lib.rs tests/api/main.rs \
 && cargo build --release --locked --bin ecs-emulator \
 && rm -rf src
COPY src src
COPY fixtures fixtures
# Newer mtimes than the stubs' build, so cargo rebuilds the crate itself.
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked --bin ecs-emulator \
 && mkdir -p data/ca

# Run stage: distroless with glibc and nothing else — no shell, no package manager; the
# binary checks its own health. Expected size: ~25 MB (base ~20 MB + binary ~6 MB).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/ecs-emulator /usr/local/bin/ecs-emulator
# The CA folder, owned by the image's user (distroless has no shell to mkdir it).
COPY --from=build --chown=65532:65532 /src/data /data
ENV ECS_EMULATOR_LISTEN=0.0.0.0:8080 \
    ECS_EMULATOR_TLS_LISTEN=0.0.0.0:8443 \
    ECS_EMULATOR_CA_DIR=/data/ca
VOLUME /data/ca
EXPOSE 8080 8443
USER nonroot
HEALTHCHECK --interval=5s --timeout=3s --start-period=1s --retries=3 \
  CMD ["/usr/local/bin/ecs-emulator", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/ecs-emulator"]
CMD ["serve"]
