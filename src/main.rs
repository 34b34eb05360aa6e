fn main() {
    println!("verdict");
}
