package redshiftsim

import (
	"encoding/hex"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// The backend converts every loaded value with the target column's input
// function, as it does for delimited text, so a Parquet value travels as
// the text that function reads: booleans as true/false, numbers in Go's
// shortest exact form, timestamps as UTC 'YYYY-MM-DD HH:MM:SS.ffffff'
// (Redshift stores Parquet timestamps as UTC), dates, times and decimals by
// their logical type, strings as they are.

// valueText renders one non-null value of a column.
type valueText func(parquet.Value) string

// textOf picks the rendering for a column's physical and logical type.
func textOf(t parquet.Type) valueText {
	var logical format.LogicalTypeValue
	if lt := t.LogicalType(); lt != nil {
		logical = lt.Value
	}
	switch t.Kind() {
	case parquet.Boolean:
		return func(v parquet.Value) string { return strconv.FormatBool(v.Boolean()) }
	case parquet.Int32:
		return int32Text(logical)
	case parquet.Int64:
		return int64Text(logical)
	case parquet.Int96:
		return func(v parquet.Value) string { return int96Time(v).Format(timestampLayout) }
	case parquet.Float:
		return func(v parquet.Value) string { return floatText(float64(v.Float()), 32) }
	case parquet.Double:
		return func(v parquet.Value) string { return floatText(v.Double(), 64) }
	}
	// Byte arrays: strings, unless a decimal or a UUID.
	switch lt := logical.(type) {
	case *format.DecimalType:
		return func(v parquet.Value) string {
			return decimalText(new(big.Int).SetBytes(v.ByteArray()), v.ByteArray(), lt.Scale)
		}
	case *format.UUIDType:
		return func(v parquet.Value) string { return uuidText(v.ByteArray()) }
	}
	return func(v parquet.Value) string { return string(v.ByteArray()) }
}

const (
	timestampLayout = "2006-01-02 15:04:05.999999999"
	timeLayout      = "15:04:05.999999999"
	dateLayout      = "2006-01-02"
)

func int32Text(logical format.LogicalTypeValue) valueText {
	switch lt := logical.(type) {
	case *format.DateType:
		return func(v parquet.Value) string {
			return time.Unix(int64(v.Int32())*86400, 0).UTC().Format(dateLayout)
		}
	case *format.TimeType:
		return func(v parquet.Value) string {
			return time.UnixMilli(int64(v.Int32())).UTC().Format(timeLayout)
		}
	case *format.DecimalType:
		return func(v parquet.Value) string { return scaled(big.NewInt(int64(v.Int32())), lt.Scale) }
	case *format.IntType:
		if !lt.IsSigned {
			return func(v parquet.Value) string { return strconv.FormatUint(uint64(uint32(v.Int32())), 10) }
		}
	}
	return func(v parquet.Value) string { return strconv.FormatInt(int64(v.Int32()), 10) }
}

func int64Text(logical format.LogicalTypeValue) valueText {
	switch lt := logical.(type) {
	case *format.TimestampType:
		unit := unitOf(&lt.Unit)
		return func(v parquet.Value) string { return sinceEpoch(v.Int64(), unit).Format(timestampLayout) }
	case *format.TimeType:
		unit := unitOf(&lt.Unit)
		return func(v parquet.Value) string { return sinceEpoch(v.Int64(), unit).Format(timeLayout) }
	case *format.DecimalType:
		return func(v parquet.Value) string { return scaled(big.NewInt(v.Int64()), lt.Scale) }
	case *format.IntType:
		if !lt.IsSigned {
			return func(v parquet.Value) string { return strconv.FormatUint(uint64(v.Int64()), 10) }
		}
	}
	return func(v parquet.Value) string { return strconv.FormatInt(v.Int64(), 10) }
}

// unitOf is a time unit's length.
func unitOf(u *format.TimeUnit) time.Duration {
	switch u.Value.(type) {
	case *format.MilliSeconds:
		return time.Millisecond
	case *format.NanoSeconds:
		return time.Nanosecond
	}
	return time.Microsecond
}

// sinceEpoch is n units after the Unix epoch, in UTC.
func sinceEpoch(n int64, unit time.Duration) time.Time {
	per := int64(time.Second / unit)
	return time.Unix(n/per, n%per*int64(unit)).UTC()
}

// int96Time reads the legacy INT96 timestamp (Impala, Spark): nanoseconds
// of the day, then the Julian day.
func int96Time(v parquet.Value) time.Time {
	i := v.Int96()
	nanos := int64(uint64(i[1])<<32 | uint64(i[0]))
	const unixJulianDay = 2440588
	day := int64(i[2]) - unixJulianDay
	return time.Unix(day*86400, nanos).UTC()
}

// floatText writes a float as PostgreSQL's float input reads it.
func floatText(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

// decimalText reads a big-endian two's-complement unscaled value.
func decimalText(n *big.Int, raw []byte, scale int32) string {
	if len(raw) > 0 && raw[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(raw)*8)))
	}
	return scaled(n, scale)
}

// scaled writes n × 10^-scale.
func scaled(n *big.Int, scale int32) string {
	s := n.String()
	if scale <= 0 {
		return s
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if pad := int(scale) + 1 - len(s); pad > 0 {
		s = strings.Repeat("0", pad) + s
	}
	s = s[:len(s)-int(scale)] + "." + s[len(s)-int(scale):]
	if neg {
		s = "-" + s
	}
	return s
}

func uuidText(b []byte) string {
	if len(b) != 16 {
		return hex.EncodeToString(b)
	}
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
