//! The README's DataFrame tour: read a CSV with a header, aggregate, sort, show.
//!
//! `cargo run -p engine-sql --example tour [path/to/orders.csv]` (without a path it writes a
//! small sample file first).

use engine_sql::prelude::*;

fn main() -> Result<()> {
    let path = match std::env::args().nth(1) {
        Some(p) => p,
        None => {
            let p = std::env::temp_dir().join("sstream-tour-orders.csv");
            let rows = [
                "order_id,country,qty,price",
                "o-1,DE,2,10.5",
                "o-2,FR,1,99.0",
                "o-3,DE,5,3.25",
                "o-4,US,3,20.0",
            ];
            std::fs::write(&p, rows.join("\n") + "\n")
                .map_err(|e| EngineError::io(format!("writing {}", p.display()), e))?;
            p.to_string_lossy().into_owned()
        }
    };
    let spark = Session::builder()
        .app_name("tour")
        .master("local[2]")
        .build()?;
    let orders = spark
        .read()
        .format("csv")
        .option("header", "true")
        .option("inferSchema", "true")
        .load(&path)?;
    orders.print_schema()?;
    orders
        .group_by(vec![col("country")])
        .agg(vec![
            count(lit(1)).alias("orders"),
            sum(col("qty") * col("price")).alias("revenue"),
        ])?
        .order_by(vec![col("revenue").desc()])?
        .show(20, 20)?;
    Ok(())
}
