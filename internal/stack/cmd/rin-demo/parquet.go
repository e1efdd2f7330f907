package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/parquet-go/parquet-go"
)

// The Parquet target: order exports written as Parquet files, loaded with
// `FORMAT AS PARQUET`. Redshift maps a Parquet file's columns onto the
// table's by position, so the file's column order is the table's; rin sends
// no REGION for it and gives every manifest entry the object's size
// (meta.content_length), both of which Redshift requires for columnar files.

// ordersPrefix is the Parquet target's key prefix.
const ordersPrefix = "orders/"

// orderColumns are the table's columns, in the files' column order.
const orderColumns = "order_id bigint, customer_id int, sku varchar(16), quantity int, price double precision, gift boolean, ordered_at timestamp, coupon varchar(16)"

// order is one row of an order export; its fields are the file's columns,
// in order. A nil coupon is a null.
type order struct {
	OrderID    int64     `parquet:"order_id"`
	CustomerID int32     `parquet:"customer_id"`
	SKU        string    `parquet:"sku"`
	Quantity   int32     `parquet:"quantity"`
	Price      float64   `parquet:"price"`
	Gift       bool      `parquet:"gift"`
	OrderedAt  time.Time `parquet:"ordered_at,timestamp(microsecond)"`
	Coupon     *string   `parquet:"coupon"`
}

// orderFile is a Parquet file of n orders placed from at on.
func orderFile(rng *rand.Rand, at time.Time, first int64, n int) ([]byte, error) {
	coupons := []string{"SPRING10", "WELCOME", "FREESHIP"}
	rows := make([]order, n)
	for i := range rows {
		rows[i] = order{
			OrderID:    first + int64(i),
			CustomerID: 100000 + rng.Int32N(90000),
			SKU:        fmt.Sprintf("SKU-%05d", rng.IntN(20000)),
			Quantity:   1 + rng.Int32N(5),
			Price:      float64(100+rng.IntN(99900)) / 100,
			Gift:       rng.IntN(8) == 0,
			OrderedAt:  at.Add(time.Duration(i) * 1500 * time.Millisecond),
		}
		if rng.IntN(4) == 0 {
			c := pick(rng, coupons)
			rows[i].Coupon = &c
		}
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[order](&buf)
	if _, err := w.Write(rows); err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	return buf.Bytes(), nil
}
