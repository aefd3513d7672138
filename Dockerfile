# Multi-stage build: a static Hoctap binary on a distroless base, running as non-root.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -ldflags="-s -w" -o /out/hoctap . \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hoctap /usr/local/bin/hoctap
COPY --from=build --chown=65532:65532 /out/data /data
ENV HOCTAP_ADDR=:8080 \
    HOCTAP_DATA_DIR=/data
USER 65532:65532
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/hoctap"]
