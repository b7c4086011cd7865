# scour in a container: `docker build -t scour .` then
#   docker run --rm -v "$PWD:/src" -w /src scour scan --ledger .scour/ledger.jsonl .
# Not built in this project's CI (the CI machine has no container runtime); see docs/install.md.
FROM rust:1-slim-bookworm AS build
WORKDIR /build
COPY . .
RUN cargo install --locked --path . --root /out

FROM debian:bookworm-slim
# git for --staged/--git-range in mounted repositories; ca-certificates for remotes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && git config --system --add safe.directory '*'
COPY --from=build /out/bin/scour /usr/bin/scour
# A non-root user: scour needs only read access to what it scans.
RUN useradd --system --uid 10001 scour
USER scour
ENTRYPOINT ["/usr/bin/scour"]
CMD ["--help"]
