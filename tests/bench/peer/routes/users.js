import express from "express";
import {
  createUserIfNotExists,
  getUserById,
  getUserByEmail,
  updateUser,
  deleteUser,
  listUsers,
} from "../models/user.js";

const router = express.Router();

router.get("/", async (req, res) => {
  try {
    if (req.query.email) {
      const user = await getUserByEmail(req.query.email);
      if (!user) return res.status(404).json({ message: "User not found" });
      return res.json(user);
    }
    const users = await listUsers();
    res.json(users);
  } catch (err) {
    res.status(500).json({ message: "Failed to fetch users" });
  }
});

router.get("/:id", async (req, res) => {
  try {
    const user = await getUserById(req.params.id);
    if (!user) return res.status(404).json({ message: "User not found" });
    res.json(user);
  } catch (err) {
    res.status(500).json({ message: "Failed to fetch user" });
  }
});

router.post("/", async (req, res) => {
  const { name, email } = req.body;
  if (!name || !email) {
    return res.status(400).json({ message: "name and email are required" });
  }
  try {
    const user = await createUserIfNotExists({ name, email });
    res.status(201).json(user);
  } catch (err) {
    if (err.message === "User already exists") {
      return res.status(409).json({ message: err.message });
    }
    res.status(500).json({ message: "Failed to create user" });
  }
});

router.patch("/:id", async (req, res) => {
  try {
    const updated = await updateUser(req.params.id, req.body);
    res.json(updated);
  } catch (err) {
    res.status(500).json({ message: "Failed to update user" });
  }
});

router.delete("/:id", async (req, res) => {
  try {
    await deleteUser(req.params.id);
    res.json({ message: "User deleted" });
  } catch (err) {
    res.status(500).json({ message: "Failed to delete user" });
  }
});

export default router;
