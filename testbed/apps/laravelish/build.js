// Stand-in for `vite build`: writes public/build.txt so a test can see the build ran.
const fs = require("fs");
const path = require("path");

const version = fs.readFileSync(path.join(__dirname, "VERSION"), "utf8").trim();
fs.writeFileSync(path.join(__dirname, "public", "build.txt"), `built version=${version}\n`);
console.log("built public/build.txt");
