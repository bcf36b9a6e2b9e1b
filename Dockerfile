# Multi-stage build: a static binary (pure Go, no cgo) on a distroless base, run as non-root.
FROM golang:1.26-bookworm AS build
# The PDF report embeds NanumGothic (internal/export); distroless has no fonts and no package
# manager, so the two files it needs are taken from Debian's fonts-nanum here.
RUN apt-get update -qq \
	&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-nanum \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
# go.mod replaces glebarez/go-sqlite with this local module: go mod download reads its go.mod.
COPY internal/thirdparty/gosqlite/ internal/thirdparty/gosqlite/
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/claimdesk .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/claimdesk /claimdesk
COPY --from=build /usr/share/fonts/truetype/nanum/NanumGothic.ttf \
	/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf /usr/share/fonts/truetype/nanum/
# The SIL Open Font License asks for its notice to travel with the fonts.
COPY --from=build /usr/share/doc/fonts-nanum/copyright /usr/share/doc/fonts-nanum/copyright
ENV CLAIMDESK_FONT_DIR=/usr/share/fonts/truetype/nanum
# The embedded SQLite default writes ./data; with PostgreSQL nothing is written locally.
WORKDIR /home/nonroot
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/claimdesk"]
CMD ["serve"]
