//go:build depkeep

// deps_keep.go pins modules that packages under construction will import; it is removed
// once they do.
package main

import (
	_ "github.com/chromedp/chromedp"
	_ "github.com/gofiber/contrib/websocket"
	_ "github.com/gorilla/websocket"
	_ "github.com/minio/minio-go/v7"
	_ "github.com/nats-io/nats.go"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/xuri/excelize/v2"
	_ "golang.org/x/crypto/argon2"
	_ "gopkg.in/yaml.v3"
	_ "github.com/gofiber/fiber/v2"
)
