//! The README's testing examples are the files that run in the test suite, verbatim.

#[test]
fn the_readme_testing_examples_are_the_running_files() {
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |path: &str| std::fs::read_to_string(format!("{root}/{path}")).unwrap();
    let readme = read("README.md");
    let section = readme
        .split("## Testing with ecs-emulator")
        .nth(1)
        .expect("the section")
        .split("\n## ")
        .next()
        .unwrap();
    let sources = [
        (
            "```python\n",
            read("examples/testing/test_with_ecs_emulator.py"),
        ),
        (
            "```js\n",
            read("examples/testing/with_ecs_emulator.test.mjs"),
        ),
    ];
    let mut checked = 0;
    for (fence, source) in &sources {
        for block in section.split(fence).skip(1) {
            let code = block.split("```").next().unwrap();
            for part in code.split("\n\n").filter(|p| !p.trim().is_empty()) {
                assert!(
                    source.contains(part.trim_end()),
                    "not in the example file:\n{part}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 4, "{checked}");
}
