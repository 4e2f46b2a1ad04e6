package authz

// MaxIDLength is the longest client id accepted.
const MaxIDLength = 200

// validID reports whether id is a valid client id: 1–200 characters of
// [A-Za-z0-9_.:@|-], other than "." and "..".
//
// "." and ".." are refused because no URL path can name them: they are the
// dot segments that URL resolution removes (RFC 3986 §5.2.4), so net/http's
// ServeMux, browsers and HTTP clients turn /scopes/.. into / before a
// handler sees it. Every other id, "..." included, is an ordinary path
// segment.
func validID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLength || id == "." || id == ".." {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '_', c == '.', c == ':', c == '@', c == '|', c == '-':
		default:
			return false
		}
	}
	return true
}

// checkID returns the ErrInvalid error for a malformed client id, or nil.
func checkID(id string) error {
	if validID(id) {
		return nil
	}
	if len(id) > MaxIDLength {
		return invalidf("id has %d characters; at most %d are allowed", len(id), MaxIDLength)
	}
	if id == "." || id == ".." {
		return invalidf(`id %q is not allowed: "." and ".." cannot be named in a URL path`, id)
	}
	return invalidf("id %q must be 1-%d characters of A-Z a-z 0-9 _ . : @ | -, other than \".\" and \"..\"", id, MaxIDLength)
}
