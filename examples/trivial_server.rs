//! `bench/run` helper: the ceiling for a tiny GET. One actix-web handler returning a small
//! static JSON body, with actix's default worker count (as `tessera serve`), on 127.0.0.1.
//!
//! ```sh
//! cargo run --release --example trivial_server -- PORT
//! ```

use actix_web::{web, App, HttpResponse, HttpServer};

async fn hello() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"ok"}"#)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8090);
    let server = HttpServer::new(|| App::new().route("/", web::get().to(hello)))
        .bind(("127.0.0.1", port))?
        .run();
    println!("trivial_server listening on 127.0.0.1:{port}");
    server.await
}
