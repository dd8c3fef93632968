# The cairn image: one static binary (no cgo, no libc) on a distroless base,
# running as the unprivileged user 65532. modules/kubernetes runs it with the
# arguments `server --address … POOL`; data lives on the mounted volumes.
#
#   docker build -t cairn .
#   docker buildx build --platform linux/amd64,linux/arm64 -t cairn .
#
# The go build line is the Makefile's `make static` (tests/deploy TestDockerfile
# keeps them equal).

FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
ARG TARGETOS=linux
ARG TARGETARCH=amd64
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/cairn .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cairn /usr/local/bin/cairn
USER 65532:65532
EXPOSE 9000
ENTRYPOINT ["/usr/local/bin/cairn"]
CMD ["server", "--help"]
