# Multi-stage build: a static binary (pure Go, no cgo) on a distroless base, run as non-root.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/claimdesk .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/claimdesk /claimdesk
# The embedded SQLite default writes ./data; with PostgreSQL nothing is written locally.
WORKDIR /home/nonroot
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/claimdesk"]
CMD ["serve"]
