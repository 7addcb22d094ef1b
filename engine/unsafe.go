package engine

import "unsafe"

// uintptrOf returns the address of b's first byte, to tell whether a parsed slice
// aliases a given buffer.
func uintptrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
