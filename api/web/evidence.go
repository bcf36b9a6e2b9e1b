package web

import (
	"bytes"
	"crypto/sha256"
)

// extension is the file name extension of each accepted type.
var extension = map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf", "image/heic": ".heic"}

// heicBrands are the ISO-BMFF brands of HEIC/HEIF photos (what iPhones save).
var heicBrands = [][]byte{[]byte("heic"), []byte("heix"), []byte("heim"), []byte("heis"), []byte("hevc"), []byte("hevx")}

// sniff returns the type of an evidence file from its first bytes, "" when it is none of
// JPEG, PNG, PDF and HEIC. Names and declared types are never trusted.
func sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return "image/jpeg"
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return "application/pdf"
	case isHEIC(b):
		return "image/heic"
	}
	return ""
}

// isHEIC reads the ftyp box: a HEIC brand as the major brand, or a generic HEIF brand (mif1,
// msf1) with a HEIC brand among the compatible ones.
func isHEIC(b []byte) bool {
	if len(b) < 16 || string(b[4:8]) != "ftyp" {
		return false
	}
	size := int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	if size < 16 || size > len(b) || size > 256 {
		return false
	}
	major := b[8:12]
	for _, br := range heicBrands {
		if bytes.Equal(major, br) {
			return true
		}
	}
	if !bytes.Equal(major, []byte("mif1")) && !bytes.Equal(major, []byte("msf1")) {
		return false
	}
	for i := 16; i+4 <= size; i += 4 {
		for _, br := range heicBrands {
			if bytes.Equal(b[i:i+4], br) {
				return true
			}
		}
	}
	return false
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
